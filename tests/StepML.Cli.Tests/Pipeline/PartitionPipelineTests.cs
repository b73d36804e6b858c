using System.Text;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Partitioning through the state machine (issue 8 §1–2): the Partition Map over byte ranges, the
/// content-addressed sets runs reuse, and dataset versions a run id is bound to.</summary>
public sealed class PartitionPipelineTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static JsonObject Job(string runId, bool sparse = false, string? path = null, int maxRounds = 2)
    {
        var job = PipelineFixture.Job("ga-sgd", maxRounds: maxRounds, runId: runId);
        job["dataset"]!["sparse"] = sparse;
        if (path is not null) job["dataset"]!["path"] = path;
        return job;
    }

    private static async Task<PipelineResult> RunAsync(IObjectStore store, JsonObject job, long rangeBytes, int concurrency)
    {
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions { WaitTimeScale = 0, Concurrency = concurrency, PartitionRangeBytes = rangeBytes });
        return await pipeline.RunAsync(job.ToJsonString());
    }

    /// <summary>Every event of every execution of the run, from the history the pipeline wrote to the store.</summary>
    private static async Task<JsonNode[]> EventsAsync(IObjectStore store, PipelineResult result) =>
        (await RunHistory.ReadAsync(store, result.RunId!))!["executions"]!.AsArray()
            .SelectMany(e => e!["events"]!.AsArray()).Select(e => e!).ToArray();

    /// <summary>Partition tasks the engine scheduled, read from the execution history.</summary>
    private static async Task<int> PartitionTasksAsync(IObjectStore store, PipelineResult result) =>
        (await EventsAsync(store, result))
            .Count(ev => (string?)ev["type"] == "LambdaFunctionScheduled"
                && ((string?)ev["lambdaFunctionScheduledEventDetails"]?["resource"])?.EndsWith("stepml-Partition", StringComparison.Ordinal) == true);

    private static async Task<SortedDictionary<string, byte[]>> PartitionFilesAsync(IObjectStore store, string runId)
    {
        var set = RunLayout.PartitionSet((await RunData.RecordAsync(store, runId)).PartitionSet) + "/";
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var info in await store.ListAsync(set))
            if (info.Key.EndsWith(".part", StringComparison.Ordinal)) files[info.Key[set.Length..]] = await store.GetAsync(info.Key);
        return files;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Partition_ThreeRangeSizesAndConcurrencies_ByteIdenticalPartitions(bool sparse)
    {
        // 64 MiB: one range; 100,003 bytes: ~25 ranges cut mid-line; 9,973: ~250 ranges of a few dozen lines.
        (long RangeBytes, int Concurrency)[] settings = [(64L << 20, 1), (100_003, 3), (9_973, 8)];
        var results = new List<SortedDictionary<string, byte[]>>();
        var tasks = new List<int>();
        foreach (var (rangeBytes, concurrency) in settings)
        {
            var store = fixture.NewStore();
            var result = await RunAsync(store, Job("identical", sparse), rangeBytes, concurrency);
            Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
            results.Add(await PartitionFilesAsync(store, "identical"));
            tasks.Add(await PartitionTasksAsync(store, result));
        }

        var size = new FileInfo(fixture.DatasetFile).Length;
        // Ranges + one Summarize + 5 Assemble (4 partitions and validation).
        Assert.Equal(settings.Select(s => (int)((size + s.RangeBytes - 1) / s.RangeBytes) + 1 + 5), tasks);
        Assert.Equal(["0.part", "1.part", "2.part", "3.part", "validation.part"], results[0].Keys);
        foreach (var other in results.Skip(1))
        {
            Assert.Equal(results[0].Keys, other.Keys);
            foreach (var (name, bytes) in results[0]) Assert.True(bytes.AsSpan().SequenceEqual(other[name]), $"{name} differs");
        }
        var rows = results[0].Sum(kv => (long)Partition.Decode(kv.Value, kv.Key).Rows);
        Assert.Equal(PipelineFixture.Rows, rows);
        Assert.Equal(sparse, Partition.Decode(results[0]["0.part"], "0.part").IsSparse);
    }

    [Fact]
    public async Task Partition_MultiFilePrefixDataset_EveryRowOnceAndTrains()
    {
        // The fixture's file cut into three objects at line boundaries, plus a sidecar job that must be skipped.
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("store-").FullName);
        var lines = await File.ReadAllLinesAsync(fixture.DatasetFile);
        var cuts = new[] { 0, 7_000, 15_500, lines.Length };
        for (var f = 0; f < 3; f++)
            await store.PutAsync($"datasets/multi/part-{f}.libsvm", Encoding.UTF8.GetBytes(string.Join('\n', lines[cuts[f]..cuts[f + 1]]) + "\n"));
        await store.PutAsync("datasets/multi/part-0.libsvm.job.json", Encoding.UTF8.GetBytes("{}"));

        var result = await RunAsync(store, Job("multi", path: "datasets/multi/", maxRounds: 5), 50_000, 4);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var record = await RunData.RecordAsync(store, "multi");
        Assert.Equal(["datasets/multi/part-0.libsvm", "datasets/multi/part-1.libsvm", "datasets/multi/part-2.libsvm"], record.Files.Select(f => f.Key));
        var files = await PartitionFilesAsync(store, "multi");
        Assert.Equal(PipelineFixture.Rows, files.Sum(kv => (long)Partition.Decode(kv.Value, kv.Key).Rows));
        Assert.InRange(result.Summary!.TrainLoss, 0.2, 0.6);
    }

    [Fact]
    public async Task Prepare_SecondJobOnTheSameDataset_ReusesThePartitionsWithoutAPartitionTask()
    {
        var store = fixture.NewStore();
        var first = await RunAsync(store, Job("first"), 200_000, 4);
        var before = await PartitionFilesAsync(store, "first");

        var secondJob = PipelineFixture.Job("admm", maxRounds: 2, runId: "second");
        var second = await RunAsync(store, secondJob, 200_000, 4);

        Assert.True(first.Succeeded && second.Succeeded, $"{second.Error}: {second.Cause}");
        Assert.True(await PartitionTasksAsync(store, first) > 2);
        Assert.Equal(0, await PartitionTasksAsync(store, second));
        Assert.Equal((await RunData.RecordAsync(store, "first")).PartitionSet, (await RunData.RecordAsync(store, "second")).PartitionSet);
        var prepared = (await EventsAsync(store, second))
            .First(e => (string?)e["type"] == "TaskStateExited" && (string?)e["stateExitedEventDetails"]?["name"] == "Prepare")!;
        var state = JsonNode.Parse((string)prepared["stateExitedEventDetails"]!["output"]!)!;
        Assert.True((bool)state["partitionSetReused"]!);
        Assert.Contains("partitions reused", (string)state["reason"]!);
        var after = await PartitionFilesAsync(store, "second");
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    [Fact]
    public async Task Prepare_ChangedDataset_NewSetAndTheOldRunIdRefused()
    {
        var store = fixture.NewStore();
        Assert.True((await RunAsync(store, Job("before"), 1L << 20, 2)).Succeeded);
        var original = await store.GetAsync(PipelineFixture.DatasetKey);
        // The same size, other bytes: one label flipped ("1 " -> "0 " on the first line starting with 1).
        var changed = (byte[])original.Clone();
        var at = Encoding.ASCII.GetString(changed).IndexOf("\n1 ", StringComparison.Ordinal) + 1;
        changed[at] = (byte)'0';
        await store.PutAsync(PipelineFixture.DatasetKey, changed);

        var after = await RunAsync(store, Job("after"), 1L << 20, 2);
        var again = await RunAsync(store, Job("before"), 1L << 20, 2);

        Assert.True(after.Succeeded, $"{after.Error}: {after.Cause}");
        Assert.True(await PartitionTasksAsync(store, after) > 0);
        Assert.NotEqual((await RunData.RecordAsync(store, "before")).PartitionSet, (await RunData.RecordAsync(store, "after")).PartitionSet);
        Assert.Equal(nameof(RunExistsException), again.Error);
        Assert.Contains(PipelineFixture.DatasetKey, again.Cause);
        Assert.Contains("the run trained on", again.Cause);
    }

    [Fact]
    public async Task Prepare_GzipDataset_RefusedNamingTheFix()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("store-").FullName);
        using (var buffer = new MemoryStream())
        {
            await using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                await gzip.WriteAsync(await File.ReadAllBytesAsync(fixture.DatasetFile));
            await store.PutAsync("datasets/zipped.libsvm", buffer.ToArray());
        }

        var result = await RunAsync(store, Job("zipped", path: "datasets/zipped.libsvm"), 1L << 20, 2);

        Assert.Equal("DatasetFormatException", result.Error);
        Assert.Contains("gzip", result.Cause);
        Assert.Contains("decompress", result.Cause);
    }
}
