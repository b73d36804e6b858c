using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace StepML.Storage.Tests;

// The behaviour every IObjectStore promises. Each store's test class derives from
// this one and provides a fresh, empty store per test.
public abstract class ObjectStoreContractTests
{
    protected abstract IObjectStore Store { get; }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Put_ThenGet_ReturnsTheSameBytes()
    {
        var data = Bytes(10_000, 1);

        await Store.PutAsync("runs/r1/model/0.tensor", data);

        Assert.Equal(data, await Store.GetAsync("runs/r1/model/0.tensor"));
    }

    [Fact]
    public async Task Version_SameBytesTwice_IsEqualAndCarriesTheSize()
    {
        var data = Bytes(5000, 11);
        await Store.PutAsync("datasets/a.libsvm", data);
        await Store.PutAsync("datasets/b.libsvm", data);

        var a = await Store.VersionAsync("datasets/a.libsvm");
        var b = await Store.VersionAsync("datasets/b.libsvm");

        Assert.Equal(5000, a.Size);
        Assert.Equal("datasets/a.libsvm", a.Key);
        Assert.Equal(a.Version, b.Version);
        Assert.Equal(a.Version, (await Store.VersionAsync("datasets/a.libsvm")).Version);
    }

    [Fact]
    public async Task Version_OverwrittenWithOtherBytesOfTheSameSize_Changes()
    {
        await Store.PutAsync("datasets/a.libsvm", Bytes(5000, 12));
        var before = await Store.VersionAsync("datasets/a.libsvm");

        await Store.PutAsync("datasets/a.libsvm", Bytes(5000, 13));
        var after = await Store.VersionAsync("datasets/a.libsvm");

        Assert.Equal(before.Size, after.Size);
        Assert.NotEqual(before.Version, after.Version);
    }

    [Fact]
    public async Task Version_MissingKey_ThrowsObjectNotFound()
    {
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.VersionAsync("datasets/missing.libsvm"));
    }

    [Fact]
    public async Task Put_EmptyObject_GetReturnsNoBytes()
    {
        await Store.PutAsync("empty", ReadOnlyMemory<byte>.Empty);

        Assert.Empty(await Store.GetAsync("empty"));
        Assert.True(await Store.ExistsAsync("empty"));
    }

    [Fact]
    public async Task Put_SliceOfLargerArray_StoresOnlyTheSlice()
    {
        var data = Bytes(100, 2);

        await Store.PutAsync("slice", data.AsMemory(10, 50));

        Assert.Equal(data[10..60], await Store.GetAsync("slice"));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 4096)]
    [InlineData(1000, 17)]
    [InlineData(4095, 1)]
    [InlineData(4096, 0)]
    public async Task GetRange_InsideTheObject_ReturnsExactlyThoseBytes(long offset, int length)
    {
        var data = Bytes(4096, 3);
        await Store.PutAsync("stats/0.tensor", data);

        var range = await Store.GetRangeAsync("stats/0.tensor", offset, length);

        Assert.Equal(data.AsSpan((int)offset, length).ToArray(), range);
    }

    [Theory]
    [InlineData(4000, 200)]
    [InlineData(4096, 1)]
    [InlineData(10_000, 5)]
    [InlineData(4097, 0)]
    public async Task GetRange_PastTheEnd_ThrowsObjectRangeException(long offset, int length)
    {
        await Store.PutAsync("short", Bytes(4096, 4));

        var error = await Assert.ThrowsAsync<ObjectRangeException>(() => Store.GetRangeAsync("short", offset, length));

        Assert.Contains("4096 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRange_NegativeArguments_AreRejected()
    {
        await Store.PutAsync("k", Bytes(10, 5));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.GetRangeAsync("k", -1, 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.GetRangeAsync("k", 0, -1));
    }

    [Fact]
    public async Task Reads_MissingKey_ThrowObjectNotFoundNamingTheKey()
    {
        await Store.PutAsync("present", Bytes(10, 6));

        var get = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("runs/none/job.json"));
        var range = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetRangeAsync("runs/none/job.json", 0, 4));
        var open = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenReadAsync("runs/none/job.json"));

        Assert.All(new[] { get, range, open }, e => Assert.Equal("runs/none/job.json", e.Key));
        Assert.Contains("runs/none/job.json", get.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OverExistingKey_ReplacesTheWholeObject()
    {
        await Store.PutAsync("model", Bytes(5000, 7));
        var shorter = Bytes(100, 8);

        await Store.PutAsync("model", shorter);

        Assert.Equal(shorter, await Store.GetAsync("model"));
        Assert.Equal(100, (await Store.ListAsync("model")).Single().Size);
    }

    [Fact]
    public async Task List_ByPrefix_ReturnsMatchingKeysInOrdinalOrderWithSizes()
    {
        // "runs/r1/a.txt" and "runs/r1/a/x" sort by byte ('.' < '/'), not by path segment.
        string[] keys = ["runs/r1/b", "runs/r1/B", "runs/r1/a/x", "runs/r1-other/a", "runs/r10/a", "runs/r1/a.txt", "datasets/d.csv"];
        for (var i = 0; i < keys.Length; i++)
            await Store.PutAsync(keys[i], Bytes(i + 1, i));

        var listed = await Store.ListAsync("runs/r1/");

        Assert.Equal(["runs/r1/B", "runs/r1/a.txt", "runs/r1/a/x", "runs/r1/b"], listed.Select(o => o.Key));
        Assert.Equal([2, 6, 3, 1], listed.Select(o => o.Size));
        Assert.Equal(
            ["runs/r1-other/a", "runs/r1/B", "runs/r1/a.txt", "runs/r1/a/x", "runs/r1/b", "runs/r10/a"],
            (await Store.ListAsync("runs/r1")).Select(o => o.Key));
    }

    [Fact]
    public async Task List_EmptyPrefix_ReturnsEveryKey()
    {
        await Store.PutAsync("b", Bytes(1, 1));
        await Store.PutAsync("a/c", Bytes(2, 2));

        Assert.Equal(["a/c", "b"], (await Store.ListAsync("")).Select(o => o.Key));
    }

    [Fact]
    public async Task List_NothingUnderPrefix_ReturnsEmpty()
    {
        await Store.PutAsync("a/b", Bytes(1, 1));

        Assert.Empty(await Store.ListAsync("zzz/"));
    }

    [Fact]
    public async Task Delete_ExistingKey_RemovesItAndMissingKeyIsNoError()
    {
        await Store.PutAsync("runs/r/x", Bytes(10, 9));

        await Store.DeleteAsync("runs/r/x");
        await Store.DeleteAsync("runs/r/x");

        Assert.False(await Store.ExistsAsync("runs/r/x"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("runs/r/x"));
        Assert.Empty(await Store.ListAsync("runs/"));
    }

    [Fact]
    public async Task Exists_OnlyForTheExactKey()
    {
        await Store.PutAsync("runs/ab", Bytes(1, 1));
        await Store.PutAsync("runs/a/b", Bytes(1, 2));

        Assert.True(await Store.ExistsAsync("runs/ab"));
        Assert.True(await Store.ExistsAsync("runs/a/b"));
        Assert.False(await Store.ExistsAsync("runs/a"));
        Assert.False(await Store.ExistsAsync("runs/abc"));
    }

    [Fact]
    public async Task OpenRead_ExistingKey_StreamsTheWholeObject()
    {
        var data = Bytes(300_000, 10);
        await Store.PutAsync("datasets/big.bin", data);

        await using var stream = await Store.OpenReadAsync("datasets/big.bin");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task PutStream_ForwardOnlyMultiMegabyteStream_RoundTrips()
    {
        var data = Bytes(5 * 1024 * 1024 + 123, 11);

        await Store.PutAsync("runs/r/partitions/0.part", new ForwardOnlyStream(data));

        Assert.Equal(data, await Store.GetAsync("runs/r/partitions/0.part"));
    }

    [Fact]
    public async Task PutStream_SeekableStreamAfterItsStart_StoresTheRestOfTheStream()
    {
        var data = Bytes(3 * 1024 * 1024, 12);
        using var stream = new MemoryStream(data) { Position = 1000 };

        await Store.PutAsync("partial", stream);

        Assert.Equal(data[1000..], await Store.GetAsync("partial"));
    }

    [Fact]
    public async Task Put_WithStatisticTags_StoresTheBytes()
    {
        var data = Encoding.UTF8.GetBytes("statistic");

        await Store.PutAsync("runs/r/rounds/0/stats/0.tensor", data, PutOptions.Statistic);

        Assert.Equal(data, await Store.GetAsync("runs/r/rounds/0/stats/0.tensor"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("runs/../secrets")]
    [InlineData("runs/./x")]
    [InlineData("runs\\x")]
    [InlineData("runs//x")]
    [InlineData("runs/x y")]
    [InlineData("c:/x")]
    public async Task EveryOperation_InvalidKey_IsRejectedBeforeAnyIo(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetRangeAsync(key, 0, 1));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream(new byte[1])));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ExistsAsync(key));
    }

    [Fact]
    public async Task List_InvalidPrefix_IsRejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ListAsync("../"));
    }

    [Fact]
    public void PutThenGetRange_AnyBytesAndRange_ReturnsTheSlice()
    {
        var counter = 0;
        Prop.ForAll(
                ArbMap.Default.ArbFor<byte[]>(),
                ArbMap.Default.ArbFor<NonNegativeInt>(),
                ArbMap.Default.ArbFor<NonNegativeInt>(),
                (data, a, b) =>
                {
                    var key = $"prop/{counter++}";
                    Store.PutAsync(key, data).GetAwaiter().GetResult();
                    var offset = data.Length == 0 ? 0 : a.Get % (data.Length + 1);
                    var length = (data.Length - offset) == 0 ? 0 : b.Get % (data.Length - offset + 1);
                    var whole = Store.GetAsync(key).GetAwaiter().GetResult();
                    var range = Store.GetRangeAsync(key, offset, length).GetAwaiter().GetResult();
                    return whole.AsSpan().SequenceEqual(data) && range.AsSpan().SequenceEqual(data.AsSpan(offset, length));
                })
            .QuickCheckThrowOnFailure();
    }

    // A stream that cannot seek or tell its length, like a network or decompression stream.
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            // Short reads on purpose: at most 64 KiB at a time.
            var n = Math.Min(Math.Min(count, 65536), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class FileObjectStoreContractTests : ObjectStoreContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-file-store-").FullName;

    public FileObjectStoreContractTests() => Store = new FileObjectStore(_root);

    protected override IObjectStore Store { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
