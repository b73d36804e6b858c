using System.Text;
using System.Text.Json.Nodes;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>
/// The real train.asl.json and handlers under the quota-enforcing engine, with every time limit scaled down
/// (LimitTimeScale): what would fail in AWS fails here the same way, and the workers' round budget keeps
/// rounds inside the EXPRESS child's 5 minutes. Its own collection runs alone: the limits are seconds of wall time, and
/// a CI run failed when a worker beside other test classes' pipelines took 5.4 s against a 4.8 s limit.
/// </summary>
[CollectionDefinition(nameof(LimitsTests), DisableParallelization = true)]
public sealed class LimitsCollection;

[Collection(nameof(LimitsTests))]
public sealed class LimitsTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    // 0.03: the Worker's 240 s timeout is 7.2 s, its round budget 5.4 s, the EXPRESS child's 5 minutes 9 s (margins
    // wide enough for a loaded machine, where handlers wait for a thread).
    private const double Scale = 0.03;

    // An MLP with 1,000 local epochs: hours of work per round, far past any limit unless the budget stops it.
    private static JsonObject LongRounds(int maxRounds)
    {
        var job = PipelineFixture.Job("ma-sgd", maxRounds: maxRounds);
        job["model"] = new JsonObject { ["type"] = "mlp", ["hidden"] = new JsonArray(256, 256) };
        job["algorithm"] = new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = 0.05, ["batchSize"] = 32, ["localEpochs"] = 1000 };
        return job;
    }

    // The history events of every execution, as the pipeline wrote them to the store (it keeps none in memory).
    private static async Task<List<JsonObject>> EventsAsync(IObjectStore store) =>
        (await RunHistory.ReadAsync(store, "test-run"))!["executions"]!.AsArray()
            .SelectMany(x => x!["events"]!.AsArray()).Select(e => e!.AsObject()).ToList();

    private static async Task<IEnumerable<JsonObject>> WorkerOutputsAsync(IObjectStore store) =>
        (await EventsAsync(store))
            .Where(e => (string?)e["type"] == "MapStateExited" && (string?)e["stateExitedEventDetails"]!["name"] == "Workers")
            .SelectMany(e => JsonNode.Parse((string)e["stateExitedEventDetails"]!["output"]!)!["workers"]!.AsArray().Select(w => w!.AsObject()));

    private static async Task<double[]> LossesAsync(IObjectStore store) =>
        Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run")))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!["trainLoss"]!.GetValue<double>())
            .ToArray();

    [Fact]
    public async Task Run_LocalWorkPastTheExpressLimit_RoundBudgetEndsEachRoundInTimeAndTheRunConverges()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, LongRounds(maxRounds: 4), new LocalPipelineOptions { LimitTimeScale = Scale });

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var workers = (await WorkerOutputsAsync(store)).ToList();
        Assert.Equal(16, workers.Count);
        // Every worker of every round was cut by the budget, and still reported the samples it used.
        Assert.All(workers, w => Assert.True(w["budgetCut"]?.GetValue<bool>() == true, w.ToJsonString()));
        Assert.All(workers, w => Assert.InRange(w["samples"]!.GetValue<long>(), 1, PipelineFixture.Rows));
        Assert.All(workers, w => Assert.InRange(w["seconds"]!.GetValue<double>(), 0, 240 * Scale));
        var losses = await LossesAsync(store);
        Assert.Equal(4, losses.Length);
        Assert.True(losses[^1] < 0.9 * losses[0], $"the loss fell from {losses[0]} to only {losses[^1]}");
    }

    [Fact]
    public async Task Run_SameJobWithoutTheRoundBudget_FailsWhenTheWorkTaskTimesOut()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, LongRounds(maxRounds: 4), new LocalPipelineOptions { LimitTimeScale = Scale, WorkerRoundSeconds = 0 });

        // The Work task's TimeoutSeconds (the Worker's timeout) fires inside the EXPRESS child; no tolerance, so the Map fails.
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.ExceedToleratedFailureThreshold", result.Error);
        Assert.Contains("States.Timeout", result.Cause);
        Assert.Contains(await EventsAsync(store), e => (string?)e["type"] == "LambdaFunctionTimedOut");
    }

    [Fact]
    public async Task Run_DecideRunsPastItsTimeoutSeconds_FailsWithStatesTimeoutAndRecordsTheFailure()
    {
        var store = fixture.NewStore();
        var options = new LocalPipelineOptions
        {
            LimitTimeScale = Scale, // Decide's 120 s are 3.6 s
            WrapFunctions = inner => new InterceptingInvoker(inner, before: (function, _) =>
                function == "Decide" ? Task.Delay(TimeSpan.FromSeconds(8)) : Task.CompletedTask),
        };

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ga-sgd", maxRounds: 2), options);

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Timeout", result.Error);
        Assert.Contains("120 seconds", result.Cause);
        Assert.Contains("States.Timeout", Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Failure("test-run"))));
    }

    [Fact]
    public async Task Run_StateOutputOver256KiB_FailsWithDataLimitExceededThatTheCatchCannotHandle()
    {
        // A job just under the 256 KiB input quota that Prepare rejects: the Catch adds $.error to the input, and that
        // output passes the quota. As in AWS, States.DataLimitExceeded is terminal: RecordFailure never runs.
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ga-sgd");
        job["unknownField"] = "";
        var padding = AwsQuotas.MaxPayloadBytes - Encoding.UTF8.GetByteCount(job.ToJsonString()) - 16;
        job["unknownField"] = new string('p', padding);

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.DataLimitExceeded", result.Error);
        Assert.Contains("'Prepare'", result.Cause);
        Assert.False(await store.ExistsAsync(RunLayout.Failure("test-run")));
    }

    [Theory]
    [InlineData(0, "FAILED")]
    [InlineData(3, "SUCCEEDED")]
    public async Task Run_HistoryQuota_ContinueAsNewKeepsEachExecutionUnderIt(int roundsPerExecution, string expected)
    {
        // A 200-event quota stands in for 25,000: a round costs 24 events, so 8 rounds in one execution pass it.
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ga-sgd", maxRounds: 8);
        job["stop"]!["roundsPerExecution"] = roundsPerExecution;

        var result = await PipelineFixture.RunAsync(store, job, new LocalPipelineOptions { MaxHistoryEvents = 200 });

        Assert.Equal(expected, result.Status);
        if (expected == "FAILED")
        {
            Assert.Equal("States.Runtime", result.Error);
            Assert.Equal("The execution reached the maximum number of history events (200).", result.Cause);
            Assert.Equal(200, result.Executions[0].QuotaEvents);
            Assert.Equal("ExecutionFailed", (string?)(await EventsAsync(store))[^1]["type"]);
        }
        else
        {
            Assert.Equal(3, result.Executions.Count);
            Assert.All(result.Executions, e => Assert.InRange(e.QuotaEvents, 1, 200));
        }
    }
}
