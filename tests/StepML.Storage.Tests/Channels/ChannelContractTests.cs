using StepML.Core.Tensors;
using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

// The behaviour every IChannel promises, run against each real server by the subclasses below and in this folder.
// Every test writes under its own run id, so one server serves the whole class.
public abstract class ChannelContractTests
{
    protected abstract IChannel Channel { get; }

    protected string RunId { get; } = "t-" + Guid.NewGuid().ToString("N")[..12];

    // 300,000 parameters: five 64 KB blocks (1.2 MB), larger than a DynamoDB item and not a multiple of the block size.
    protected static (float[] Values, byte[] Bytes, ShardLayout Layout) Statistic(int elements = 300_000, int shards = 3, int seed = 1)
    {
        var random = new Random(seed);
        var values = new float[elements];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        var layout = ShardLayout.For(elements, shards);
        return (values, TensorCodec.Encode(values, [elements], 3, layout.BlockElements), layout);
    }

    [Fact]
    public async Task Put_ThenGet_ReturnsTheSameBytes()
    {
        var (_, bytes, _) = Statistic();

        await Channel.PutAsync(RunLayout.Statistic(RunId, 0, 0), bytes);

        Assert.Equal(bytes, await Channel.GetAsync(RunLayout.Statistic(RunId, 0, 0)));
    }

    [Fact]
    public async Task GetRange_EachShardOfAStatistic_DecodesToThatShard()
    {
        var (values, bytes, layout) = Statistic();
        var key = RunLayout.Statistic(RunId, 0, 1);
        await Channel.PutAsync(key, bytes);

        for (var s = 0; s < layout.Shards; s++)
        {
            var (first, count) = layout.Blocks(s);
            var (offset, length) = TensorCodec.BlockByteRange(layout.Elements, layout.BlockElements, first, count);
            var range = await Channel.GetRangeAsync(key, offset, length);
            var (start, elements) = layout.ElementRange(s);
            var decoded = new float[elements];
            TensorCodec.DecodeBlocks(range, key, layout.Elements, layout.BlockElements, first, count, decoded);
            Assert.Equal(values.AsSpan((int)start, (int)elements).ToArray(), decoded);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 100)]
    [InlineData(65_000, 200_000)]
    [InlineData(1_199_000, 1000)]
    public async Task GetRange_AnyRangeInside_ReturnsThoseBytes(long offset, int length)
    {
        var (_, bytes, _) = Statistic();
        var key = RunLayout.Merged(RunId, 2, 0);
        await Channel.PutAsync(key, bytes);

        var range = await Channel.GetRangeAsync(key, offset, length);

        Assert.Equal(bytes.AsSpan((int)offset, length).ToArray(), range);
    }

    [Fact]
    public async Task Put_BytesThatAreNotATensor_RoundTrip()
    {
        var bytes = new byte[1_000_003];
        new Random(7).NextBytes(bytes);

        await Channel.PutAsync(RunLayout.Merged(RunId, 0, 0), bytes);

        Assert.Equal(bytes, await Channel.GetAsync(RunLayout.Merged(RunId, 0, 0)));
        Assert.Equal(bytes.AsSpan(500_000, 10).ToArray(), await Channel.GetRangeAsync(RunLayout.Merged(RunId, 0, 0), 500_000, 10));
    }

    [Fact]
    public async Task Put_Twice_TheSecondWins()
    {
        var key = RunLayout.Statistic(RunId, 1, 0);
        await Channel.PutAsync(key, Statistic(seed: 1).Bytes);
        var second = Statistic(seed: 2).Bytes;

        await Channel.PutAsync(key, second);

        Assert.Equal(second, await Channel.GetAsync(key));
    }

    [Fact]
    public async Task Get_MissingKey_ThrowsObjectNotFound()
    {
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Channel.GetAsync(RunLayout.Statistic(RunId, 0, 9)));

        Assert.Equal(RunLayout.Statistic(RunId, 0, 9), e.Key);
    }

    [Fact]
    public async Task GetRange_MissingKey_ThrowsObjectNotFound()
    {
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Channel.GetRangeAsync(RunLayout.Statistic(RunId, 0, 9), 64, 100));
    }

    [Fact]
    public async Task GetRange_PastTheEnd_ThrowsObjectRange()
    {
        var (_, bytes, _) = Statistic(elements: 1000, shards: 1);
        var key = RunLayout.Statistic(RunId, 0, 0);
        await Channel.PutAsync(key, bytes);

        var e = await Assert.ThrowsAsync<ObjectRangeException>(() => Channel.GetRangeAsync(key, bytes.Length - 10, 20));

        Assert.Contains(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public async Task DeleteRound_RemovesItsStatisticsAndShards_KeepsOtherRounds()
    {
        var (_, bytes, _) = Statistic(elements: 70_000);
        foreach (var round in new long[] { 4, 5 })
        {
            for (var p = 0; p < 3; p++) await Channel.PutAsync(RunLayout.Statistic(RunId, round, p), bytes);
            for (var s = 0; s < 2; s++) await Channel.PutAsync(RunLayout.Merged(RunId, round, s), bytes);
        }

        await Channel.DeleteRoundAsync(RunId, 4, partitions: 3, shards: 2);

        for (var p = 0; p < 3; p++)
        {
            await Assert.ThrowsAsync<ObjectNotFoundException>(() => Channel.GetAsync(RunLayout.Statistic(RunId, 4, p)));
            Assert.Equal(bytes, await Channel.GetAsync(RunLayout.Statistic(RunId, 5, p)));
        }
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Channel.GetRangeAsync(RunLayout.Merged(RunId, 4, 1), 64, 10));
        Assert.Equal(bytes, await Channel.GetAsync(RunLayout.Merged(RunId, 5, 1)));
    }

    [Fact]
    public async Task DeleteRound_NothingWritten_IsNotAnError()
    {
        await Channel.DeleteRoundAsync(RunId, 0, partitions: 2, shards: 1);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Channel.GetAsync(RunLayout.Statistic(RunId, 0, 0)));
    }

    [Fact]
    public async Task Put_KeyOutsideTheStore_IsRefused()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Channel.PutAsync("../escape", new byte[4]));
    }
}

// The object-store channel over the local folder store (the embedded default).
public sealed class FolderChannelContractTests : ChannelContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("stepml-channel-").FullName;

    public FolderChannelContractTests() => Channel = new ObjectStoreChannel(new FileObjectStore(_directory));

    protected override IChannel Channel { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
