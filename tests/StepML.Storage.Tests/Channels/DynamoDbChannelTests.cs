using Amazon.DynamoDBv2.Model;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

// The channel contract against dynalite.
[Collection(DynaliteCollection.Name)]
public sealed class DynamoDbChannelContractTests(DynaliteFixture server) : ChannelContractTests
{
    protected override IChannel Channel { get; } = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, server.Endpoint), TimeSpan.FromHours(1));
}

[Collection(DynaliteCollection.Name)]
public sealed class DynamoDbChannelTests(DynaliteFixture server)
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private async Task<List<Dictionary<string, AttributeValue>>> ItemsAsync(string key)
    {
        var request = new QueryRequest
        {
            TableName = DynaliteFixture.Table,
            KeyConditionExpression = "#k = :k",
            ExpressionAttributeNames = new() { ["#k"] = DynamoDbChannel.KeyAttribute },
            ExpressionAttributeValues = new() { [":k"] = new AttributeValue { S = key } },
        };
        var items = new List<Dictionary<string, AttributeValue>>();
        do
        {
            var response = await server.Client.QueryAsync(request);
            items.AddRange(response.Items);
            request.ExclusiveStartKey = response.LastEvaluatedKey;
        } while (request.ExclusiveStartKey is { Count: > 0 });
        return items;
    }

    [Fact]
    public async Task Put_LargeStatistic_OneItemPerBlockUnderTheItemLimit()
    {
        var layout = ShardLayout.For(300_000, 3);
        var bytes = TensorCodec.Encode(new float[300_000], [300_000], 0, layout.BlockElements);
        var channel = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, server.Endpoint), TimeSpan.FromHours(1));
        var key = RunLayout.Statistic("chunk-run-" + Guid.NewGuid().ToString("N")[..8], 0, 0);

        await channel.PutAsync(key, bytes);

        var items = await ItemsAsync(key);
        Assert.Equal(1 + layout.BlockCount, items.Count);
        Assert.All(items, i => Assert.InRange(i[DynamoDbChannel.DataAttribute].B.Length, 1, 400 * 1024 - 1024));
    }

    [Fact]
    public async Task Put_AnyItem_CarriesTheExpiryAttribute()
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var channel = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, server.Endpoint), TimeSpan.FromHours(6), new FixedTime(now));
        var key = RunLayout.Merged("ttl-run-" + Guid.NewGuid().ToString("N")[..8], 0, 0);

        await channel.PutAsync(key, new byte[1000]);

        var expected = now.AddHours(6).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(await ItemsAsync(key), i => Assert.Equal(expected, i[DynamoDbChannel.ExpiresAttribute].N));
    }

    [Fact]
    public async Task Get_TableMissing_ThrowsChannelConfigurationNamingIt()
    {
        var channel = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, $"{server.ServiceUrl.OriginalString}/no-such-table"), TimeSpan.FromHours(1));

        var e = await Assert.ThrowsAsync<ChannelConfigurationException>(() => channel.GetAsync(RunLayout.Statistic("r", 0, 0)));

        Assert.Contains("no table 'no-such-table'", e.Message);
    }

    [Fact]
    public async Task Put_TableMissingOnALocalServer_CreatesItWhenAllowed()
    {
        var table = "created-" + Guid.NewGuid().ToString("N")[..8];
        var job = new CommunicationSpec { Channel = ChannelKinds.DynamoDb, Endpoint = $"{server.ServiceUrl.OriginalString}/{table}" };
        var channel = ChannelFactory.Open(job, new FileObjectStore(Path.GetTempPath()), new ChannelDefaults());
        var bytes = new byte[5000];

        await Task.WhenAll(Enumerable.Range(0, 3).Select(p => channel.PutAsync(RunLayout.Statistic("r", 0, p), bytes)));

        Assert.Equal(bytes, await channel.GetAsync(RunLayout.Statistic("r", 0, 2)));
        Assert.Equal(table, (await server.Client.DescribeTableAsync(table)).Table.TableName);
    }

    [Fact]
    public async Task Get_NoServerAtTheEndpoint_ThrowsStoreTransientNamingIt()
    {
        var endpoint = $"http://127.0.0.1:{LocalChannelServer.FreePort()}/t-table";
        var channel = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, endpoint), TimeSpan.FromHours(1));

        var e = await Assert.ThrowsAsync<StoreTransientException>(() => channel.GetAsync(RunLayout.Statistic("r", 0, 0)));

        Assert.Contains(endpoint, e.Message);
    }
}

public sealed class DynamoDbChunksTests
{
    [Theory]
    [InlineData(10_000, 1)]
    [InlineData(1_000_000, 1)]
    [InlineData(1_000_000, 7)]
    [InlineData(300_001, 4)]
    public void Plan_Statistic_EveryShardRangeIsWholeChunks(int elements, int shards)
    {
        var layout = ShardLayout.For(elements, shards);
        var bytes = TensorCodec.Encode(new float[elements], [elements], 0, layout.BlockElements);

        var chunks = DynamoDbChunks.Plan(bytes);

        Assert.Equal(bytes.Length, chunks.Sum(c => (long)c.Length));
        Assert.All(chunks, c => Assert.InRange(c.Length, 1, DynamoDbChunks.MaxChunkBytes));
        var starts = chunks.Select(c => c.Offset).ToHashSet();
        for (var s = 0; s < shards; s++)
        {
            var (first, count) = layout.Blocks(s);
            if (count == 0) continue;
            var (offset, length) = TensorCodec.BlockByteRange(layout.Elements, layout.BlockElements, first, count);
            Assert.Contains(offset, starts);
            Assert.True(offset + length == bytes.Length || starts.Contains(offset + length), $"shard {s} ends inside a chunk");
        }
    }

    [Fact]
    public void Plan_BlockLargerThanAnItem_CutsItUnderTheLimit()
    {
        // A statistic with 8 values per parameter has 512 KB blocks.
        var bytes = TensorCodec.Encode(new float[8 * 16384 * 2], [8 * 16384 * 2], 0, 8 * 16384);

        var chunks = DynamoDbChunks.Plan(bytes);

        Assert.All(chunks, c => Assert.InRange(c.Length, 1, DynamoDbChunks.MaxChunkBytes));
        Assert.Contains(TensorCodec.HeaderSize + 8 * 16384 * 4 + 4L, chunks.Select(c => c.Offset));
    }
}
