using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Cli.Commands;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Tolerated worker failures are visible (progress line, final.json) and Finalize tolerates the partitions
/// the rounds tolerated.</summary>
public sealed class ToleranceTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static LocalPipelineOptions CorruptPartitionAfterPrepare(IObjectStore store, int partition) => new()
    {
        WrapFunctions = inner => new InterceptingInvoker(inner, after: async (function, _) =>
        {
            // Prepare also runs Commit, which records the run's partition set: corrupt that set's partition once it exists.
            if (function == "Prepare" && await store.ExistsAsync(RunLayout.DatasetRecord("test-run")))
                await store.PutAsync(await RunData.PartitionKeyAsync(store, "test-run", partition), new byte[100]);
        }),
    };

    [Fact]
    public async Task Run_OnePartitionUnreadableWithinTolerance_SucceedsAndReportsItEverywhere()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ma-sgd", maxRounds: 3);
        job["workers"] = new JsonObject { ["toleratedFailurePercentage"] = 30 };
        var pipeline = new LocalPipeline(store, CorruptPartitionAfterPrepare(store, 3) with { WaitTimeScale = 0, Concurrency = 4 });
        var progress = new List<string>();
        pipeline.RoundCompleted += s => progress.Add(RunCommand.Tolerated(s));

        var result = await pipeline.RunAsync(job.ToJsonString());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(["  workers 3/4, 1 failed (tolerated)", "  workers 3/4, 1 failed (tolerated)", "  workers 3/4, 1 failed (tolerated)"], progress);
        var final = JsonSerializer.Deserialize(await store.GetAsync(RunLayout.FinalSummary("test-run")), ContractJson.Default.FinalSummary)!;
        Assert.Equal(3, final.FailedWorkers);
        Assert.Equal([3], final.FailedPartitions!);
        Assert.Equal([3], final.UnevaluatedPartitions!);
        Assert.True(double.IsFinite(final.TrainLoss));
    }

    [Fact]
    public async Task Run_NoFailures_ProgressAndFinalJsonSayNothingFailed()
    {
        var store = fixture.NewStore();
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions { WaitTimeScale = 0, Concurrency = 4 });
        var progress = new List<string>();
        pipeline.RoundCompleted += s => progress.Add(RunCommand.Tolerated(s));

        var result = await pipeline.RunAsync(PipelineFixture.Job("ma-sgd", maxRounds: 2).ToJsonString());

        Assert.True(result.Succeeded);
        Assert.All(progress, Assert.Empty);
        Assert.Equal(0, result.Summary!.FailedWorkers);
        Assert.Null(result.Summary.UnevaluatedPartitions);
    }

    [Fact]
    public async Task Run_UnreadablePartitionWithoutTolerance_FailsAtTheFirstRound()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ma-sgd", maxRounds: 3), CorruptPartitionAfterPrepare(store, 3));

        Assert.Equal("FAILED", result.Status);
        Assert.False(await store.ExistsAsync(RunLayout.Model("test-run", 1)));
    }
}
