using System.Text;
using StepML.Storage;

namespace StepML.Storage.Tests;

/// <summary>Symbolic links inside the folder store never let a read, write, delete or listing reach outside it.</summary>
public sealed class FileObjectStoreEscapeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-escape-").FullName;
    private readonly string _outside;
    private readonly FileObjectStore _store;

    public FileObjectStoreEscapeTests()
    {
        _outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "secret");
        _store = new FileObjectStore(Path.Combine(_dir, "store"));
    }

    private string InStore(string relative) => Path.Combine(_store.Root, relative);

    private void AssertOutsideUntouched()
    {
        Assert.Equal(["secret.txt"], Directory.GetFiles(_outside).Select(Path.GetFileName));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public async Task Put_ThroughDirectoryLinkToOutside_IsRefusedAndWritesNothing()
    {
        Directory.CreateSymbolicLink(InStore("runs"), _outside);

        var e = await Assert.ThrowsAsync<StoreEscapeException>(() => _store.PutAsync("runs/r1/job.json", Encoding.UTF8.GetBytes("{}")));

        Assert.Contains("runs/r1/job.json", e.Message);
        Assert.Contains(_outside, e.Message);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task Put_OverFileLinkToOutside_IsRefusedAndLeavesTheTargetIntact()
    {
        Directory.CreateDirectory(InStore("runs/r1"));
        File.CreateSymbolicLink(InStore("runs/r1/metrics.jsonl"), Path.Combine(_outside, "secret.txt"));

        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.PutAsync("runs/r1/metrics.jsonl", new MemoryStream([1, 2, 3])));

        AssertOutsideUntouched();
    }

    [Fact]
    public async Task Get_ThroughRelativeLinkChain_IsRefused()
    {
        // datasets -> hop, hop -> ../outside: two links, the second relative.
        Directory.CreateSymbolicLink(InStore("hop"), Path.Combine("..", "outside"));
        Directory.CreateSymbolicLink(InStore("datasets"), "hop");

        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.GetAsync("datasets/secret.txt"));
        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.OpenReadAsync("datasets/secret.txt"));
        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.GetRangeAsync("datasets/secret.txt", 0, 1));
        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.ExistsAsync("datasets/secret.txt"));
    }

    [Fact]
    public async Task Delete_ThroughLink_IsRefused()
    {
        Directory.CreateSymbolicLink(InStore("datasets"), _outside);

        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.DeleteAsync("datasets/secret.txt"));

        AssertOutsideUntouched();
    }

    [Fact]
    public async Task Put_ThroughDanglingLinkToOutside_IsRefused()
    {
        Directory.CreateSymbolicLink(InStore("partitions"), Path.Combine(_outside, "not-yet"));

        await Assert.ThrowsAsync<StoreEscapeException>(() => _store.PutAsync("partitions/0.part", new byte[4]));

        Assert.False(Directory.Exists(Path.Combine(_outside, "not-yet")));
    }

    [Fact]
    public async Task List_WithLinkToOutside_DoesNotListOutsideFiles()
    {
        await _store.PutAsync("datasets/a.libsvm", new byte[1]);
        Directory.CreateSymbolicLink(InStore("datasets/escape"), _outside);

        var keys = (await _store.ListAsync("")).Select(o => o.Key).ToList();

        Assert.Equal(["datasets/a.libsvm"], keys);
    }

    [Fact]
    public async Task Get_LinkThatStaysInside_IsAllowed()
    {
        await _store.PutAsync("datasets/real.libsvm", Encoding.UTF8.GetBytes("1 1:1\n"));
        File.CreateSymbolicLink(InStore("datasets/alias.libsvm"), "real.libsvm");

        Assert.Equal("1 1:1\n", Encoding.UTF8.GetString(await _store.GetAsync("datasets/alias.libsvm")));
    }

    [Fact]
    public async Task Store_WhoseRootIsALink_Works()
    {
        var linkedRoot = Path.Combine(_dir, "linked-root");
        Directory.CreateSymbolicLink(linkedRoot, _store.Root);
        var store = new FileObjectStore(linkedRoot);

        await store.PutAsync("k", new byte[] { 7 });

        Assert.Equal([7], await _store.GetAsync("k"));
    }

    [Fact]
    public async Task Get_LinkLoop_FailsWithoutHanging()
    {
        Directory.CreateSymbolicLink(InStore("a"), "b");
        Directory.CreateSymbolicLink(InStore("b"), "a");

        await Assert.ThrowsAsync<IOException>(() => _store.GetAsync("a/x"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
