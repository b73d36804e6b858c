using System.Text;
using System.Text.Json;
using StepML.Core.Tensors;
using StepML.Core.Training;

namespace StepML.Functions.Tests;

public class DecideStepTests
{
    private static async Task<string[]> MetricsLinesAsync(TestRun run, string runId = "run-1") =>
        Encoding.UTF8.GetString(await run.GetAsync($"runs/{runId}/metrics.jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task RunAsync_CalledTwiceForOneRound_WritesNextModelAndOneMetricsLine()
    {
        // Arrange
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var workers = await run.WorkAsync(state);
        var merged = await run.MergeAsync(state, workers);
        var input = state with { Workers = workers, Merged = merged };

        // Act: a retried Decide (e.g. a timeout after its writes).
        var first = await DecideStep.RunAsync(run.Context, input);
        var model1 = await run.GetAsync("runs/run-1/model/1.tensor");
        var second = await DecideStep.RunAsync(run.Context, input);

        // Assert
        Assert.Equal(JsonSerializer.Serialize(first, ContractJson.Default.RunState), JsonSerializer.Serialize(second, ContractJson.Default.RunState));
        Assert.Equal(model1, await run.GetAsync("runs/run-1/model/1.tensor"));
        var lines = await MetricsLinesAsync(run);
        var metrics = Assert.Single(lines);
        var parsed = JsonSerializer.Deserialize(metrics, ContractJson.Default.RoundMetrics)!;
        Assert.Equal(0, parsed.Round);
        Assert.Equal(3, parsed.Workers);
        Assert.Equal(0, parsed.FailedWorkers);
        Assert.Equal(workers.Sum(w => w.Samples), parsed.Samples);
        Assert.InRange(parsed.TrainLoss, Math.Log(2) - 1e-6, Math.Log(2) + 1e-6);
        Assert.NotNull(parsed.ValidationLoss);
        Assert.Equal(Actions.Continue, parsed.Action);
        // The next state
        Assert.Equal(1, first.Round);
        Assert.Equal(1, first.RoundsThisExecution);
        Assert.Equal(parsed.TrainLoss, first.FirstLoss);
        Assert.Equal(parsed.TrainLoss, first.PreviousLoss);
        Assert.InRange(first.CostUsd, 1e-12, 1e-2);
        Assert.Null(first.Workers);
        Assert.Null(first.Merged);
        Assert.Equal(1, TensorCodec.ReadHeader(model1, "model1").Round);
    }

    [Fact]
    public async Task RunAsync_SeveralRoundsWithARetry_OneLinePerRoundInOrder()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(algorithm: "ma-sgd"));
        state = await run.RoundAsync(state);
        state = await run.RoundAsync(state);
        // Round 2, with its Decide retried.
        var workers = await run.WorkAsync(state);
        var merged = await run.MergeAsync(state, workers);
        await DecideStep.RunAsync(run.Context, state with { Workers = workers, Merged = merged });
        state = await DecideStep.RunAsync(run.Context, state with { Workers = workers, Merged = merged });

        var rounds = (await MetricsLinesAsync(run)).Select(l => JsonSerializer.Deserialize(l, ContractJson.Default.RoundMetrics)!).ToList();

        Assert.Equal([0L, 1L, 2L], rounds.Select(m => m.Round));
        Assert.True(rounds[2].TrainLoss < rounds[0].TrainLoss, "three gradient steps should lower the training loss");
        Assert.Equal(3, state.Round);
        Assert.True(await run.ExistsAsync("runs/run-1/model/3.tensor"));
    }

    [Fact]
    public async Task RunAsync_NonFiniteMergedShard_ThrowsDivergedAndWritesNothing()
    {
        // Arrange: the merger produced a NaN.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var workers = await run.WorkAsync(state);
        var merged = await run.MergeAsync(state, workers);
        var key = "runs/run-1/rounds/0/merged/0.tensor";
        var values = TensorCodec.Decode(await run.GetAsync(key), key, out var header);
        values[3] = float.NaN;
        await run.Store.PutAsync(key, TensorCodec.Encode(values, [values.Length], 0, header.BlockElements));

        // Act
        var e = await Assert.ThrowsAsync<TrainingDivergedException>(() => DecideStep.RunAsync(run.Context, state with { Workers = workers, Merged = merged }));

        // Assert
        Assert.Contains("model/0.tensor", e.Message);
        Assert.False(await run.ExistsAsync("runs/run-1/model/1.tensor"));
        Assert.False(await run.ExistsAsync("runs/run-1/metrics.jsonl"));
    }

    [Fact]
    public async Task RunAsync_MaxRoundsReached_ActionStop()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job().Replace("\"maxRounds\": 50", "\"maxRounds\": 2"));

        state = await run.RoundAsync(state);
        var first = state.Action;
        state = await run.RoundAsync(state);

        Assert.Equal(Actions.Continue, first);
        Assert.Equal(Actions.Stop, state.Action);
        Assert.Contains("stop.maxRounds", state.Reason);
    }

    [Fact]
    public async Task RunAsync_RoundsPerExecutionReached_ActionContinueAsNew()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job().Replace("\"tolerance\": 0", "\"tolerance\": 0, \"roundsPerExecution\": 2"));

        state = await run.RoundAsync(state);
        state = await run.RoundAsync(state);

        Assert.Equal(Actions.ContinueAsNew, state.Action);
    }

    [Fact]
    public async Task RunAsync_ElapsedPastMaxSeconds_ActionStop()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job().Replace("\"tolerance\": 0", "\"tolerance\": 0, \"maxSeconds\": 30"));
        run.Time.Now += TimeSpan.FromSeconds(31);

        state = await run.RoundAsync(state);

        Assert.Equal(Actions.Stop, state.Action);
        Assert.Contains("stop.maxSeconds", state.Reason);
    }

    [Fact]
    public async Task RunAsync_NoWorkersInState_InvalidInput()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());

        await Assert.ThrowsAsync<InvalidInputException>(() => DecideStep.RunAsync(run.Context, state));
    }
}
