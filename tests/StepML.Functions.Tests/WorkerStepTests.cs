using StepML.Core.Data;
using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

public class WorkerStepTests
{
    [Fact]
    public async Task RunAsync_GaSgd_WritesExactlyItsStatisticAndReturnsScalars()
    {
        // Arrange
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(algorithm: "ga-sgd"));
        var before = await run.KeysAsync("");
        var rows = Partition.Decode(await run.GetAsync(await run.PartitionKeyAsync("1.part")), "p1").Rows;

        // Act
        var output = await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, 1));

        // Assert
        var added = (await run.KeysAsync("")).Except(before).ToArray();
        Assert.Equal(["runs/run-1/rounds/0/stats/1.tensor"], added);
        Assert.Equal(1, output.Partition);
        Assert.Equal(rows, output.Samples);
        Assert.InRange(output.Loss, Math.Log(2) - 1e-6, Math.Log(2) + 1e-6); // the initial model is zero: σ(0) everywhere
        Assert.InRange(output.Seconds, 0, 60);
        Assert.Null(output.Error);
        var statistic = TensorCodec.Decode(await run.GetAsync(added[0]), added[0], out var header);
        Assert.Equal(TestRun.Features + 1, statistic.Length);
        Assert.Equal(0, header.Round);
        Assert.Contains(statistic, g => g != 0);
    }

    [Fact]
    public async Task RunAsync_Admm_WritesStatisticAndItsStateKey()
    {
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(algorithm: "admm"));
        var before = await run.KeysAsync("");

        await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, 2));

        var added = (await run.KeysAsync("")).Except(before).Order().ToArray();
        Assert.Equal(["runs/run-1/rounds/0/stats/2.tensor", "runs/run-1/workers/2/0.tensor"], added);
        var state = TensorCodec.Decode(await run.GetAsync(added[1]), added[1], out _);
        Assert.Equal(2 * (TestRun.Features + 1), state.Length);
    }

    [Fact]
    public async Task RunAsync_AdmmLaterRound_ContinuesFromItsStateOrStartsOverWithoutIt()
    {
        // Arrange: round 0 complete; then the round-0 state of partition 0 goes missing.
        using var run = new TestRun();
        var state = await run.RoundAsync(await run.PrepareAsync(TestRun.Job(algorithm: "admm")));
        await run.Store.DeleteAsync("runs/run-1/workers/0/0.tensor");

        // Act / Assert: partition 1 continues from its state; partition 0 (whose round 0 "failed") starts over from
        // the global model, so its statistic differs from what continuing would have given.
        var continued = await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", state.Round, 1));
        Assert.True(await run.ExistsAsync("runs/run-1/workers/1/1.tensor"));
        var restarted = await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", state.Round, 0));
        Assert.Equal(0, restarted.Partition);
        // State = (x, u). Starting over sets u = 0 (as in round 0); continuing applies u ← u + x − z, which moves it.
        var restartedState = StepML.Core.Tensors.TensorCodec.Decode(await run.GetAsync("runs/run-1/workers/0/1.tensor"), "state", out _);
        var continuedState = StepML.Core.Tensors.TensorCodec.Decode(await run.GetAsync("runs/run-1/workers/1/1.tensor"), "state", out _);
        var n = restartedState.Length / 2;
        Assert.All(restartedState[n..], u => Assert.Equal(0f, u));
        Assert.Contains(continuedState[n..], u => u != 0f);
        Assert.Equal(1, continued.Partition);
    }

    [Fact]
    public async Task RunAsync_Retried_OverwritesItsKeyWithIdenticalBytes()
    {
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(algorithm: "admm"));

        await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, 0));
        var first = await run.GetAsync("runs/run-1/rounds/0/stats/0.tensor");
        await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, 0));

        Assert.Equal(first, await run.GetAsync("runs/run-1/rounds/0/stats/0.tensor"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public async Task RunAsync_PartitionOutOfRange_InvalidInput(int partition)
    {
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(partitions: 3));

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, partition)));

        Assert.Contains($"partition {partition}", e.Message);
    }

    [Fact]
    public async Task RunAsync_UnknownRun_ThrowsRunNotFound()
    {
        using var run = new TestRun();

        await Assert.ThrowsAsync<RunNotFoundException>(() => WorkerStep.RunAsync(run.Context, new WorkerInput("ghost", 0, 0)));
    }
}
