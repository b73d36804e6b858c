using System.Text.Json;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Issue 11 acceptance for Newton through the real state machine: 0.01% of the optimum within 10 rounds, a
/// per-round certified gap that is never below the true gap, stop.gap, and determinism (Newton does not shard, so
/// S = 1 only; S &gt; 1 is refused at the job spec, see JobSpecNewtonTests).</summary>
public sealed class NewtonPipelineTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Train_Newton_EndsWithinOneHundredthPercentInTenRoundsWithACertifiedGap()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("newton", maxRounds: 10));

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        Assert.Equal(10, result.Summary!.Rounds);
        var optimum = await PipelineFixture.OptimumAsync(store, "test-run", 4, 1e-3);
        var gap = (result.Summary.TrainLoss - optimum) / optimum;
        Assert.InRange(gap, -1e-6, 1e-4);
        // The final certificate bounds the truth and is itself within the target.
        Assert.InRange(result.Summary.RelativeGap!.Value, Math.Max(gap, 0), 1e-4);
        // Every round's certificate (of the model that round started from) is at least that model's true gap.
        var metrics = await DecideStep.ReadMetricsAsync(store, "test-run");
        Assert.Equal(10, metrics.Count);
        foreach (var m in metrics)
        {
            Assert.NotNull(m.Gap);
            Assert.True(m.Gap >= m.TrainLoss - optimum, $"round {m.Round}: certified {m.Gap} < true {m.TrainLoss - optimum}");
        }
        Assert.InRange(metrics[^1].RelativeGap!.Value, 0, 1e-4);
    }

    [Fact]
    public async Task Train_StopGap_StopsAsSoonAsTheCertificateIsWithinIt()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("newton", maxRounds: 30);
        job["stop"]!["gap"] = 1e-4;

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        Assert.Contains("stop.gap", result.Summary!.StopReason);
        Assert.InRange(result.Summary.Rounds, 2, 10);
        var metrics = await DecideStep.ReadMetricsAsync(store, "test-run");
        Assert.InRange(metrics[^1].RelativeGap!.Value, 0, 1e-4);
        Assert.All(metrics.SkipLast(1), m => Assert.True(m.RelativeGap is null || m.RelativeGap > 1e-4));
        var optimum = await PipelineFixture.OptimumAsync(store, "test-run", 4, 1e-3);
        Assert.InRange((metrics[^1].TrainLoss - optimum) / optimum, -1e-6, 1e-4);
    }

    [Fact]
    public async Task Run_NewtonTwiceAndShuffled_GivesBitIdenticalModels()
    {
        var first = fixture.NewStore();
        var second = fixture.NewStore();
        var shuffled = fixture.NewStore();
        var job = PipelineFixture.Job("newton", maxRounds: 5);
        var finishOrder = new List<int>();

        var a = await PipelineFixture.RunAsync(first, job);
        var b = await PipelineFixture.RunAsync(second, job);
        var c = await PipelineFixture.RunAsync(shuffled, job, ShuffledWorkers.Options(seed: 5, finishOrder));

        Assert.True(a.Succeeded && b.Succeeded && c.Succeeded);
        Assert.Contains(finishOrder.Chunk(4), r => !r.SequenceEqual(r.Order()));
        for (var round = 0; round <= 5; round++)
        {
            var key = RunLayout.Model("test-run", round);
            var expected = await first.GetAsync(key);
            Assert.Equal(expected, await second.GetAsync(key));
            Assert.Equal(expected, await shuffled.GetAsync(key));
        }
        Assert.Equal(JsonSerializer.Serialize(a.Summary!.RelativeGap), JsonSerializer.Serialize(c.Summary!.RelativeGap));
    }
}
