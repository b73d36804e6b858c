using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Storage;
using StepML.Storage.Channels;
using StepML.Storage.Tests.Channels;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>The same job through the real state machine on each channel, each against its real server (redis-server,
/// dynalite): the models are bit-identical to the object-store channel's, and the statistics travel through the
/// channel, not the store.</summary>
public sealed class ChannelPipelineTests(PipelineFixture data, RedisServerFixture redis, DynaliteFixture dynamo)
    : IClassFixture<PipelineFixture>, IClassFixture<RedisServerFixture>, IClassFixture<DynaliteFixture>
{
    private const int Rounds = 4;

    private static JsonObject Job(string algorithm, string channel, string endpoint, string runId)
    {
        var job = PipelineFixture.Job(algorithm, shards: 2, maxRounds: Rounds, runId: runId);
        job["communication"]!["channel"] = channel;
        if (endpoint.Length > 0) job["communication"]!["endpoint"] = endpoint;
        return job;
    }

    private static async Task<List<byte[]>> ModelsAsync(IObjectStore store, string runId)
    {
        var models = new List<byte[]>();
        for (var r = 0; r <= Rounds; r++) models.Add(await store.GetAsync(RunLayout.Model(runId, r)));
        models.Add(await store.GetAsync(RunLayout.FinalModel(runId)));
        return models;
    }

    [Theory]
    [InlineData("admm")]
    [InlineData("ga-sgd")]
    public async Task Run_SameJobOnEveryChannel_GivesBitIdenticalModels(string algorithm)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var runs = new Dictionary<string, (IObjectStore Store, string RunId)>();
        foreach (var (channel, endpoint) in new[] { (ChannelKinds.ObjectStore, ""), (ChannelKinds.Redis, redis.Endpoint), (ChannelKinds.DynamoDb, dynamo.Endpoint) })
        {
            var store = data.NewStore();
            var runId = $"{channel}-{algorithm}-{suffix}";
            var result = await PipelineFixture.RunAsync(store, Job(algorithm, channel, endpoint, runId));
            Assert.True(result.Succeeded, $"{channel}: {result.Error}: {result.Cause}");
            runs[channel] = (store, runId);
        }

        var reference = await ModelsAsync(runs["s3"].Store, runs["s3"].RunId);
        foreach (var channel in new[] { ChannelKinds.Redis, ChannelKinds.DynamoDb })
        {
            var models = await ModelsAsync(runs[channel].Store, runs[channel].RunId);
            for (var i = 0; i < reference.Count; i++)
                Assert.True(reference[i].AsSpan().SequenceEqual(models[i]), $"{channel}: model {i} differs from the object-store channel's");
            // The statistics and merged shards never touched the object store (optimizer state stays there, like the model).
            Assert.DoesNotContain(await runs[channel].Store.ListAsync($"runs/{runs[channel].RunId}/rounds/"),
                o => o.Key.Contains("/stats/", StringComparison.Ordinal) || o.Key.Contains("/merged/", StringComparison.Ordinal));
        }
        Assert.NotEmpty(await runs["s3"].Store.ListAsync($"runs/{runs["s3"].RunId}/rounds/{Rounds - 1}/stats/"));
    }

    [Fact]
    public async Task Run_OnRedis_DecideFreesEveryRoundButTheLast()
    {
        var store = data.NewStore();
        var runId = "redis-cleanup-" + Guid.NewGuid().ToString("N")[..6];

        var result = await PipelineFixture.RunAsync(store, Job("admm", ChannelKinds.Redis, redis.Endpoint, runId));

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var channel = new RedisChannel(ChannelEndpoint.Parse(ChannelKinds.Redis, redis.Endpoint), TimeSpan.FromHours(1));
        for (var r = 0; r < Rounds - 1; r++)
            await Assert.ThrowsAsync<ObjectNotFoundException>(() => channel.GetAsync(RunLayout.Statistic(runId, r, 0)));
        Assert.NotEmpty(await channel.GetAsync(RunLayout.Statistic(runId, Rounds - 1, 0)));
        Assert.NotEmpty(await channel.GetAsync(RunLayout.Merged(runId, Rounds - 1, 1)));
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("dynamodb")]
    public async Task Run_ChannelUnreachable_RetriedThenFailsNamingTheEndpoint(string channel)
    {
        var port = LocalChannelServer.FreePort();
        var endpoint = channel == ChannelKinds.Redis ? $"127.0.0.1:{port}" : $"http://127.0.0.1:{port}/stepml-channel";
        var store = data.NewStore();

        var result = await PipelineFixture.RunAsync(store, Job("admm", channel, endpoint, "unreachable-" + channel));

        Assert.False(result.Succeeded);
        // The Workers map fails with the workers' error, after the ASL's retries: more failed attempts than workers.
        Assert.Contains("failed with StoreTransientException", result.Cause);
        Assert.Contains(endpoint, result.Cause);
        var history = await RunHistory.ReadAsync(store, "unreachable-" + channel);
        var attempts = history!["executions"]!.AsArray().SelectMany(e => e!["events"]!.AsArray())
            .Count(h => (string?)h!["type"] == "LambdaFunctionFailed"
                && (string?)h["lambdaFunctionFailedEventDetails"]?["error"] == nameof(StoreTransientException));
        Assert.True(attempts > 4, $"{attempts} failed attempts: the worker was not retried");
        // The model the run started from is intact.
        Assert.True(await store.ExistsAsync(RunLayout.Model("unreachable-" + channel, 0)));
    }

    [Fact]
    public async Task Run_RedisChannelWithoutEndpointLocally_FailsSayingHowToNameOne()
    {
        var store = data.NewStore();

        var result = await PipelineFixture.RunAsync(store, Job("admm", ChannelKinds.Redis, "", "no-endpoint"));

        // Refused at Prepare, naming the field, before any data is partitioned or model written (it used to fail
        // every worker of round 0 with ChannelConfigurationException).
        Assert.False(result.Succeeded);
        Assert.Equal(nameof(JobSpecException), result.Error);
        Assert.Contains("job spec field \\u0027communication.endpoint\\u0027", result.Cause); // the cause is the error JSON
        Assert.Contains("sets no communication.endpoint", result.Cause);
        Assert.DoesNotContain(await store.ListAsync("runs/"), o => o.Key.Contains("/model/", StringComparison.Ordinal));
        Assert.Empty(await store.ListAsync("partitions/"));
    }
}
