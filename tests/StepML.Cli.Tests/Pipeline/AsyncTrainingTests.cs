using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Functions;
using StepML.Storage;
using StepML.Storage.Tests.Channels;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>
/// Issue 9 point 3 acceptance: asynchronous training (communication.synchronization "async") through the real state
/// machine. Four workers loop concurrently (the pipeline runs four Map iterations at once), each invocation cut short by
/// a tiny round budget so the ASL's AsyncWork loop runs many times; the run ends near the optimum, and the model in the
/// channel counts exactly the updates the workers applied (none lost to a race), on the folder store, redis-server and
/// dynalite.
/// </summary>
public sealed class AsyncTrainingTests(PipelineFixture data, RedisServerFixture redis, DynaliteFixture dynamo)
    : IClassFixture<PipelineFixture>, IClassFixture<RedisServerFixture>, IClassFixture<DynaliteFixture>
{
    private const int Partitions = 4;

    private static JsonObject Job(string algorithm, int stepsPerWorker, string runId, string channel = ChannelKinds.ObjectStore, string endpoint = "")
    {
        var job = PipelineFixture.Job(algorithm, maxRounds: stepsPerWorker, runId: runId, partitions: Partitions);
        job["communication"]!["synchronization"] = "async";
        job["communication"]!["channel"] = channel;
        if (endpoint.Length > 0) job["communication"]!["endpoint"] = endpoint;
        if (algorithm == "ga-sgd") job["algorithm"] = new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 1.0, ["momentum"] = 0.8, ["batchSize"] = 0 };
        return job;
    }

    // A round budget of 20 ms: each AsyncWork invocation applies a few updates and returns, so the loop iterates.
    private static readonly LocalPipelineOptions s_shortInvocations = new() { WorkerRoundSeconds = 0.02 };
    /// <summary>A budget spent after the first update: every AsyncWork invocation applies exactly one, so the loop
    /// iterates however fast the machine (a 20 ms budget could hold all of a worker's steps on an idle one).</summary>
    private static readonly LocalPipelineOptions s_oneUpdatePerInvocation = new() { WorkerRoundSeconds = 1e-6 };

    [Theory]
    [InlineData("ga-sgd", 100)]
    [InlineData("ma-sgd", 60)]
    public async Task Train_Async_EndsWithinTwoPercentOfOptimum(string algorithm, int stepsPerWorker)
    {
        var store = data.NewStore();
        var runId = $"async-{algorithm}";

        var result = await PipelineFixture.RunAsync(store, Job(algorithm, stepsPerWorker, runId), s_shortInvocations);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var optimum = await PipelineFixture.OptimumAsync(store, runId, Partitions, 1e-3);
        var gap = (result.Summary!.TrainLoss - optimum) / optimum;
        Assert.InRange(gap, -1e-6, 0.02);
        var record = await RunRecordsReader.LastAsync(store, runId);
        Assert.Equal(Partitions * stepsPerWorker, record.Next.AppliedUpdates);
        Assert.Contains("asynchronous", record.Metrics.Reason);
    }

    [Theory]
    [InlineData(ChannelKinds.ObjectStore)]
    [InlineData(ChannelKinds.Redis)]
    [InlineData(ChannelKinds.DynamoDb)]
    public async Task Train_AsyncOnEachChannel_AppliesEveryWorkerStep(string channel)
    {
        var store = data.NewStore();
        var runId = $"async-count-{channel}-{Guid.NewGuid().ToString("N")[..6]}";
        var endpoint = channel switch { ChannelKinds.Redis => redis.Endpoint, ChannelKinds.DynamoDb => dynamo.Endpoint, _ => "" };
        const int steps = 15;

        var result = await PipelineFixture.RunAsync(store, Job("ga-sgd", steps, runId, channel, endpoint), s_oneUpdatePerInvocation);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var record = await RunRecordsReader.LastAsync(store, runId);
        // The register's version − 1 (updates that landed) equals the steps the workers reported, summed over their loops.
        Assert.Equal(Partitions * steps, record.Next.AppliedUpdates);
        var history = await RunHistory.ReadAsync(store, runId);
        var invocations = history!["executions"]!.AsArray().SelectMany(e => e!["events"]!.AsArray())
            .Count(h => (string?)h!["type"] == "TaskStateEntered" && (string?)h["stateEnteredEventDetails"]?["name"] == "AsyncWork");
        Assert.Equal(Partitions * steps, invocations); // one update per invocation: the loop ran steps times per worker
    }

    [Theory]
    [InlineData("admm")]
    [InlineData("newton")]
    public async Task Run_AsyncWithAnAlgorithmThatNeedsEveryStatistic_FailsNamingTheField(string algorithm)
    {
        var store = data.NewStore();
        var job = PipelineFixture.Job(algorithm, runId: $"async-{algorithm}");
        job["communication"]!["synchronization"] = "async";

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.False(result.Succeeded);
        Assert.Contains(nameof(JobSpecException), result.Error);
        Assert.Contains("communication.synchronization", result.Cause);
    }
}

internal static class RunRecordsReader
{
    public static async Task<RoundRecord> LastAsync(IObjectStore store, string runId)
    {
        var keys = await store.ListAsync(RunLayout.Records(runId));
        var bytes = await store.GetAsync(keys[^1].Key);
        return System.Text.Json.JsonSerializer.Deserialize(bytes, ContractJson.Default.RoundRecord)!;
    }
}
