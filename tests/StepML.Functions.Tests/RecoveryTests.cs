using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions.Tests;

/// <summary>What a run leaves behind, and how it recovers, when part of it goes wrong.</summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly TestRun _run = new();

    [Fact]
    public async Task Prepare_MoreShardsThanParameters_FailsBeforeWritingTheRun()
    {
        var job = TestRun.Job(pattern: "scatter-reduce", shards: TestRun.Features + 2);

        var error = await Assert.ThrowsAsync<JobSpecException>(() => _run.PrepareAsync(job));

        Assert.Equal("communication.shards", error.Field);
        // The check needs the discovered feature count, so it runs at Commit: the partition set exists (reusable by a
        // corrected job), but nothing under the run's id, so a retry with a fixed job is not refused.
        Assert.Empty(await _run.KeysAsync("runs/"));
    }

    [Fact]
    public async Task Worker_AdmmStateOfPreviousRoundMissing_StartsOverFromTheGlobalModel()
    {
        var state = await _run.PrepareAsync(TestRun.Job(algorithm: "admm"));
        state = await _run.RoundAsync(state);
        // Partition 1's round-0 worker "failed" (tolerated): it left no state.
        await _run.Store.DeleteAsync(RunLayout.WorkerState("run-1", 1, 0));

        var output = await WorkerStep.RunAsync(_run.Context, new WorkerInput("run-1", 1, 1));

        Assert.Equal(1, output.Partition);
        Assert.True(await _run.ExistsAsync(RunLayout.WorkerState("run-1", 1, 1)));
    }

    [Fact]
    public async Task RecordFailure_ResumedExecutionInput_WritesFailureOfThatRun()
    {
        var input = JsonNode.Parse("""{ "resume": { "runId": "run-7", "round": 40 }, "error": { "Error": "StoreTransientException", "Cause": "gone" } }""");

        var record = await RecordFailureStep.RunAsync(_run.Context, input);

        Assert.Equal("run-7", record.RunId);
        Assert.True(await _run.ExistsAsync(RunLayout.Failure("run-7")));
    }

    public void Dispose() => _run.Dispose();
}
