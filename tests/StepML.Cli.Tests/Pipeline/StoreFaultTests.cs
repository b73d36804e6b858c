using System.Diagnostics;
using StepML.Cli.Commands;
using StepML.Core.Tensors;
using StepML.Storage;
using StepML.Storage.S3;
using StepML.Storage.Tests.S3;
using Xunit.Abstractions;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>A store that goes away or fills up mid-run ends the run in a named error (exit 1, the run id named), never
/// a crash, and the models and rounds already written stay intact.</summary>
public sealed class StoreFaultTests(PipelineFixture data, ITestOutputHelper output) : IClassFixture<PipelineFixture>
{
    private const int FaultRound = 3;

    private static LocalPipelineOptions FaultBefore(int round, Action fault) => new()
    {
        WrapFunctions = inner => new InterceptingInvoker(inner, before: (function, input) =>
        {
            if (function == "Worker" && input["round"]!.GetValue<long>() == round && input["partition"]!.GetValue<int>() == 0) fault();
            return Task.CompletedTask;
        }),
    };

    /// <summary>model/0 .. model/FaultRound equal a clean run's, bit for bit, and nothing later exists.</summary>
    private async Task AssertEarlierModelsIntactAsync(IObjectStore store)
    {
        var clean = data.NewStore();
        Assert.True((await PipelineFixture.RunAsync(clean, PipelineFixture.Job("ma-sgd", maxRounds: 6))).Succeeded);
        for (var r = 0; r <= FaultRound; r++)
        {
            var bytes = await store.GetAsync(RunLayout.Model("test-run", r));
            TensorCodec.Decode(bytes, "model", out _);
            Assert.Equal(await clean.GetAsync(RunLayout.Model("test-run", r)), bytes);
        }
        Assert.False(await store.ExistsAsync(RunLayout.Model("test-run", FaultRound + 1)));
        Assert.False(await store.ExistsAsync(RunLayout.FinalModel("test-run")));
    }

    [Fact]
    public async Task Run_S3ServerStopsMidRun_FailsNamingStoreAndRunAndKeepsEarlierModels()
    {
        using var s3 = new S3rverFixture();
        var bucket = s3.CreateBucket();
        var store = new S3ObjectStore(s3.Client, S3StoreLocation.Parse($"s3://{bucket}?endpoint={s3.Endpoint}"));
        await using (var file = File.OpenRead(data.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        var clock = Stopwatch.StartNew();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ma-sgd", maxRounds: 6), FaultBefore(FaultRound, s3.Stop));

        output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:F1} s: {result.Error}");
        Assert.Equal("FAILED", result.Status);
        Assert.Equal(nameof(StoreTransientException), result.Error);
        Assert.Equal("test-run", result.RunId);
        Assert.NotNull(result.HistoryError);
        Assert.Equal(CliErrors.Fault, CliErrors.ExitCode(result));
        var text = RunCommand.FailureText(result, store);
        Assert.Contains("run test-run FAILED: StoreTransientException", text);
        Assert.Contains(store.Uri, text);
        s3.Restart();
        await AssertEarlierModelsIntactAsync(store);
    }

    [Fact]
    public async Task Run_DiskFillsMidRun_FailsWithStoreFullAndKeepsEarlierModels()
    {
        using var disk = SmallDisk.Create(32 << 20, output);
        var store = new FileObjectStore(Path.Combine(disk.Path, "store"));
        await using (var file = File.OpenRead(data.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        // Without a mountable tmpfs (not root), the same fault is injected in the store's write path.
        IObjectStore runStore = disk.Mounted ? store : new FullDiskStore(store, disk);

        var result = await PipelineFixture.RunAsync(runStore, PipelineFixture.Job("ma-sgd", maxRounds: 6), FaultBefore(FaultRound, disk.Fill));

        Assert.Equal("FAILED", result.Status);
        Assert.Equal(nameof(StoreFullException), result.Error);
        Assert.Contains("is full", RunCommand.CauseMessage(result.Cause));
        Assert.Equal(CliErrors.Fault, CliErrors.ExitCode(result));
        Assert.Contains("run test-run FAILED: StoreFullException", RunCommand.FailureText(result, store));
        disk.Free();
        Assert.DoesNotContain(await store.ListAsync(""), o => o.Key.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(store.Root, "*.tmp", SearchOption.AllDirectories));
        await AssertEarlierModelsIntactAsync(store);
    }

    /// <summary>A small tmpfs mounted for the test (root only); <see cref="Fill"/> uses up its space.</summary>
    private sealed class SmallDisk : IDisposable
    {
        private SmallDisk(string path, bool mounted) => (Path, Mounted) = (path, mounted);

        public string Path { get; }
        public bool Mounted { get; }
        public bool Full { get; private set; }
        private string Filler => System.IO.Path.Combine(Path, "filler");

        public static SmallDisk Create(long bytes, ITestOutputHelper output)
        {
            var path = Directory.CreateTempSubdirectory("stepml-tmpfs-").FullName;
            var mount = Process.Start(new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path]) { RedirectStandardError = true })!;
            mount.WaitForExit();
            var mounted = mount.ExitCode == 0;
            output.WriteLine(mounted ? $"tmpfs of {bytes} bytes at {path}" : $"mount failed ({mount.StandardError.ReadToEnd().Trim()}): injecting the fault instead");
            return new SmallDisk(path, mounted);
        }

        /// <summary>Writes a file until the disk is full (tmpfs), or marks the injected store full.</summary>
        public void Fill()
        {
            Full = true;
            if (!Mounted) return;
            using var filler = new FileStream(Filler, FileMode.Create);
            var block = new byte[1 << 16];
            try
            {
                while (true) filler.Write(block);
            }
            catch (IOException)
            {
                // No space left: exactly what the test wants.
            }
        }

        public void Free()
        {
            Full = false;
            File.Delete(Filler);
        }

        public void Dispose()
        {
            if (Mounted) Process.Start("umount", [Path]).WaitForExit();
            Directory.Delete(Path, recursive: true);
        }
    }

    /// <summary>The fallback when no tmpfs can be mounted: writes fail as a full folder store's do.</summary>
    private sealed class FullDiskStore(FileObjectStore inner, SmallDisk disk) : IObjectStore
    {
        public string Uri => inner.Uri;
        public Task<byte[]> GetAsync(string key, CancellationToken ct = default) => inner.GetAsync(key, ct);
        public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default) => inner.GetRangeAsync(key, offset, length, ct);
        public Task<Stream> OpenReadAsync(string key, CancellationToken ct = default) => inner.OpenReadAsync(key, ct);
        public Task PutAsync(string key, ReadOnlyMemory<byte> bytes, PutOptions? options = null, CancellationToken ct = default) =>
            disk.Full ? throw new StoreFullException(Uri, key, new IOException("No space left on device (injected)")) : inner.PutAsync(key, bytes, options, ct);
        public Task PutAsync(string key, Stream bytes, PutOptions? options = null, CancellationToken ct = default) =>
            disk.Full ? throw new StoreFullException(Uri, key, new IOException("No space left on device (injected)")) : inner.PutAsync(key, bytes, options, ct);
        public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken ct = default) => inner.ListAsync(prefix, ct);
        public Task DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
        public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => inner.ExistsAsync(key, ct);
        public Task<ObjectVersion> VersionAsync(string key, CancellationToken ct = default) => inner.VersionAsync(key, ct);
    }
}
