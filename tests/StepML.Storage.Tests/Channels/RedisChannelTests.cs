using ConnectionMultiplexer = StackExchange.Redis.ConnectionMultiplexer;
using StepML.Core.Jobs;
using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

// The channel contract against redis-server.
[Collection(RedisServerCollection.Name)]
public sealed class RedisChannelContractTests(RedisServerFixture server) : ChannelContractTests
{
    protected override IChannel Channel { get; } = new RedisChannel(ChannelEndpoint.Parse(ChannelKinds.Redis, server.Endpoint), TimeSpan.FromHours(1));
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisChannelTests(RedisServerFixture server)
{
    [Fact]
    public async Task Put_AnyKey_ExpiresAfterTheTimeToLive()
    {
        var channel = new RedisChannel(ChannelEndpoint.Parse(ChannelKinds.Redis, server.Endpoint), TimeSpan.FromMinutes(30));
        var key = RunLayout.Statistic("ttl-run", 0, 0);

        await channel.PutAsync(key, new byte[100]);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
    }

    [Fact]
    public async Task Get_NoServerAtTheEndpoint_ThrowsStoreTransientNamingIt()
    {
        var endpoint = $"127.0.0.1:{LocalChannelServer.FreePort()}";
        var channel = new RedisChannel(ChannelEndpoint.Parse(ChannelKinds.Redis, endpoint), TimeSpan.FromHours(1));

        var e = await Assert.ThrowsAsync<StoreTransientException>(() => channel.GetAsync(RunLayout.Statistic("r", 0, 0)));

        Assert.Contains($"redis channel at {endpoint} is unreachable", e.Message);
    }
}
