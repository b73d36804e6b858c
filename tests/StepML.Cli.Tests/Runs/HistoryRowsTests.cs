using System.Text.Json.Nodes;
using StepML.Cli.Runs;
using StepML.Cli.Tests.Pipeline;
using StepML.Storage;

namespace StepML.Cli.Tests.Runs;

/// <summary>History rows of real runs through the state machine: rounds, Map iteration indexes, retries, tolerated
/// and caught failures, and the Fail state.</summary>
public sealed class HistoryRowsTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static async Task<IReadOnlyList<StateVisit>> VisitsAsync(IObjectStore store) =>
        HistoryRows.Parse((await new RunReader(store).HistoryAsync("test-run"))!);

    private static LocalPipelineOptions FailingWorker(int partition, Func<long, bool> when, Func<Exception> error) => new()
    {
        WrapFunctions = inner => new InterceptingInvoker(inner, before: (function, input) =>
            function == "Worker" && input["partition"]!.GetValue<int>() == partition && when(input["round"]!.GetValue<long>())
                ? throw error()
                : Task.CompletedTask),
    };

    [Fact]
    public async Task Parse_SucceededRun_EveryRoundHasItsWorkersByPartitionAndItsMerge()
    {
        var store = fixture.NewStore();
        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", shards: 2, maxRounds: 3));
        Assert.True(result.Succeeded);

        var visits = await VisitsAsync(store);

        for (var round = 0; round < 3; round++)
        {
            var work = visits.Where(v => v.Round == round && v.State == "Work").ToList();
            Assert.Equal([0, 1, 2, 3], work.Select(v => v.Iteration!.Value).Order());
            Assert.All(work, v => Assert.Equal("ok", v.Status));
            Assert.Equal([0, 1], visits.Where(v => v.Round == round && v.State == "MergeShard").Select(v => v.Iteration!.Value).Order());
            Assert.Single(visits, v => v.Round == round && v.State == "Decide");
        }
        Assert.Single(visits, v => v.State == "Prepare" && v.Round is null && v.Status == "ok");
        Assert.Single(visits, v => v.State == "Finalize" && v.Status == "ok");
        Assert.All(visits, v => Assert.NotNull(v.DurationSeconds));
    }

    [Fact]
    public async Task Parse_TransientWorkerErrorOnce_MarksTheVisitRetriedWithTwoAttempts()
    {
        var store = fixture.NewStore();
        var failed = 0;
        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 2),
            FailingWorker(2, round => round == 1 && Interlocked.Exchange(ref failed, 1) == 0, () => new StoreTransientException("injected 503", new IOException("connection reset"))));
        Assert.True(result.Succeeded, result.Cause);

        var visits = await VisitsAsync(store);

        var retried = Assert.Single(visits, v => v.Status == "retried");
        Assert.Equal((1L, "Work", 2, 2), (retried.Round!.Value, retried.State, retried.Iteration!.Value, retried.Attempts));
    }

    [Fact]
    public async Task Parse_ToleratedWorkerFailure_MarksThatIterationFailedAndTheMapOk()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ma-sgd", maxRounds: 2);
        job["workers"] = new JsonObject { ["toleratedFailurePercentage"] = 30 };
        var result = await PipelineFixture.RunAsync(store, job, FailingWorker(3, _ => true, () => new InjectedFaultException("partition 3 crashed")));
        Assert.True(result.Succeeded);

        var visits = await VisitsAsync(store);

        var failures = visits.Where(v => v.Status == "failed").ToList();
        Assert.Equal([(0L, 3), (1L, 3)], failures.Select(v => (v.Round!.Value, v.Iteration!.Value)));
        Assert.All(failures, v => Assert.Equal(nameof(InjectedFaultException), v.Error));
        Assert.All(visits.Where(v => v.State == "Workers"), v => Assert.Equal("ok", v.Status));
    }

    [Fact]
    public async Task Parse_UntoleratedWorkerFailure_MapCaughtThenRecordFailureThenFailState()
    {
        var store = fixture.NewStore();
        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ma-sgd", maxRounds: 3),
            FailingWorker(1, round => round == 1, () => new InjectedFaultException("partition 1 crashed")));
        Assert.Equal("FAILED", result.Status);

        var visits = await VisitsAsync(store);

        Assert.Equal("ok", Assert.Single(visits, v => v.State == "Workers" && v.Round == 0).Status);
        var caught = Assert.Single(visits, v => v.State == "Workers" && v.Round == 1);
        Assert.Equal("caught", caught.Status);
        Assert.Equal("States.ExceedToleratedFailureThreshold", caught.Error);
        Assert.Equal("ok", Assert.Single(visits, v => v.State == "RecordFailure").Status);
        var fail = Assert.Single(visits, v => v.Type == "Fail");
        Assert.Equal("failed", fail.Status);
        Assert.DoesNotContain(visits, v => v.Status == "running");
    }
}
