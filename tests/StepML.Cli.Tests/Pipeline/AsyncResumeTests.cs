using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>
/// Resuming an asynchronous run through the real state machine, on the folder store: each worker continues from the
/// updates it applied (RunLayout.AsyncProgress) instead of applying stop.maxRounds more, and a finished asynchronous run
/// is refused rather than trained again over its model and record. One update per AsyncWork invocation, so the loop
/// iterates however fast the machine.
/// </summary>
public sealed class AsyncResumeTests(PipelineFixture data) : IClassFixture<PipelineFixture>
{
    private const int Partitions = 4;
    private const int Steps = 15;
    private const string RunId = "async-resume";

    private static JsonObject Job()
    {
        var job = PipelineFixture.Job("ga-sgd", maxRounds: Steps, runId: RunId, partitions: Partitions);
        job["communication"]!["synchronization"] = "async";
        return job;
    }

    private static readonly JsonObject s_resume = new() { ["resume"] = new JsonObject { ["runId"] = RunId } };

    private static LocalPipelineOptions Options(Func<string, JsonNode, Task>? before = null) => new()
    {
        WorkerRoundSeconds = 1e-6,
        WrapFunctions = before is null ? null : inner => new InterceptingInvoker(inner, before),
    };

    private static async Task<int> AsyncWorkCallsOfLastExecutionAsync(IObjectStore store) =>
        (await RunHistory.ReadAsync(store, RunId))!["executions"]!.AsArray()[^1]!["events"]!.AsArray()
            .Count(h => (string?)h!["type"] == "TaskStateEntered" && (string?)h["stateEnteredEventDetails"]?["name"] == "AsyncWork");

    [Fact]
    public async Task Resume_AsyncRunFailedInDecide_AppliesEveryWorkersUpdatesOnce()
    {
        var store = data.NewStore();
        var failed = await PipelineFixture.RunAsync(store, Job(), Options((function, _) =>
            function == "Decide" ? throw new IOException("injected crash in Decide") : Task.CompletedTask));

        var resumed = await PipelineFixture.RunAsync(store, s_resume.DeepClone().AsObject(), Options());

        Assert.False(failed.Succeeded);
        Assert.True(resumed.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        // Every worker had finished its loop: the resume asks each once, and nothing is applied twice.
        Assert.Equal(Partitions, await AsyncWorkCallsOfLastExecutionAsync(store));
        Assert.Equal(Partitions * Steps, (await RunRecordsReader.LastAsync(store, RunId)).Next.AppliedUpdates);
    }

    [Fact]
    public async Task Resume_AsyncRunInterruptedMidway_ContinuesEachWorkerFromItsCount()
    {
        var store = data.NewStore();
        var failed = await PipelineFixture.RunAsync(store, Job(), Options((function, input) =>
            function == "Worker" && input["partition"]!.GetValue<int>() == 0 && input["steps"]!.GetValue<long>() == 5
                ? throw new IOException("injected crash of worker 0 after 5 updates") : Task.CompletedTask));

        var resumed = await PipelineFixture.RunAsync(store, s_resume.DeepClone().AsObject(), Options());

        Assert.False(failed.Succeeded);
        Assert.True(resumed.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        // Worker 0 applies its last 10 updates, the others at most what they had left: never a whole loop again.
        Assert.InRange(await AsyncWorkCallsOfLastExecutionAsync(store), Partitions, Partitions * Steps - 5);
        // An invocation abandoned by the failed Map may land its one update after the resumed worker read its count.
        Assert.InRange((await RunRecordsReader.LastAsync(store, RunId)).Next.AppliedUpdates!.Value, Partitions * Steps, Partitions * Steps + Partitions);
    }

    [Fact]
    public async Task Resume_FinishedAsyncRun_RefusedAndNothingChanged()
    {
        var store = data.NewStore();
        Assert.True((await PipelineFixture.RunAsync(store, Job(), Options())).Succeeded);
        var keys = (await store.ListAsync(RunLayout.Root(RunId) + "/")).Select(o => (o.Key, o.Size)).ToList();
        var model = await store.GetAsync(RunLayout.Model(RunId, 1));

        var resumed = await PipelineFixture.RunAsync(store, new JsonObject { ["resume"] = new JsonObject { ["runId"] = RunId, ["maxRounds"] = 2 * Steps } }, Options());

        Assert.Equal(nameof(RunNotResumableException), resumed.Error);
        Assert.Contains("asynchronous", resumed.Cause);
        Assert.Equal(keys, (await store.ListAsync(RunLayout.Root(RunId) + "/")).Select(o => (o.Key, o.Size)).ToList());
        Assert.Equal(model, await store.GetAsync(RunLayout.Model(RunId, 1)));
    }

    [Fact]
    public async Task Resume_InterruptedAsyncRunWithMaxRounds_RefusedNamingTheOption()
    {
        var store = data.NewStore();
        await PipelineFixture.RunAsync(store, Job(), Options((function, _) =>
            function == "Decide" ? throw new IOException("injected crash in Decide") : Task.CompletedTask));

        var resumed = await PipelineFixture.RunAsync(store, new JsonObject { ["resume"] = new JsonObject { ["runId"] = RunId, ["maxRounds"] = 2 * Steps } }, Options());

        Assert.Equal(nameof(InvalidInputException), resumed.Error);
        Assert.Contains("--max-rounds", resumed.Cause);
        Assert.Contains("asynchronous", resumed.Cause);
    }
}
