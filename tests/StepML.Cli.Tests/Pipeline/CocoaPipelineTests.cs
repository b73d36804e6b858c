using System.Text.Json;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Issue 11 acceptance for CoCoA+ through the real state machine: its dual variables persist as worker state
/// objects, the per-round certified gap is never below the true gap, stop.gap stops it, and reruns are bit-identical
/// with workers finishing in shuffled order, under S = 1 and S = 2 shards (CoCoA+'s update is elementwise).</summary>
public sealed class CocoaPipelineTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Train_Cocoa_EndsWithinOneHundredthPercentInTenRoundsWithACertifiedGapEveryRound()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("cocoa", maxRounds: 10));

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var optimum = await PipelineFixture.OptimumAsync(store, "test-run", 4, 1e-3);
        var metrics = await DecideStep.ReadMetricsAsync(store, "test-run");
        Assert.Equal(10, metrics.Count);
        foreach (var m in metrics)
        {
            Assert.NotNull(m.Gap);
            Assert.True(m.Gap >= m.TrainLoss - optimum, $"round {m.Round}: certified {m.Gap} < true {m.TrainLoss - optimum}");
        }
        Assert.InRange((metrics[^1].TrainLoss - optimum) / optimum, -1e-6, 1e-4);
        Assert.InRange(metrics[^1].RelativeGap!.Value, (metrics[^1].TrainLoss - optimum) / optimum, 1e-2);
        // The dual variables are worker state, one value per row of the partition.
        Assert.NotEmpty(await store.GetAsync(RunLayout.WorkerState("test-run", 0, 9)));
    }

    [Fact]
    public async Task Train_CocoaStopGap_StopsAsSoonAsTheCertificateIsWithinIt()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("cocoa", maxRounds: 60);
        job["stop"]!["gap"] = 1e-3;

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        Assert.Contains("stop.gap", result.Summary!.StopReason);
        var metrics = await DecideStep.ReadMetricsAsync(store, "test-run");
        // Measured: 37 rounds; the objective is within 1e-4 from round 10, the certificate closes more slowly.
        Assert.InRange(result.Summary.Rounds, 2, 45);
        Assert.InRange(metrics[^1].RelativeGap!.Value, 0, 1e-3);
        Assert.All(metrics.SkipLast(1), m => Assert.True(m.RelativeGap is null || m.RelativeGap > 1e-3));
        var optimum = await PipelineFixture.OptimumAsync(store, "test-run", 4, 1e-3);
        Assert.InRange((metrics[^1].TrainLoss - optimum) / optimum, -1e-6, 1e-3);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Run_CocoaTwiceAndShuffled_GivesBitIdenticalModels(int shards)
    {
        var first = fixture.NewStore();
        var second = fixture.NewStore();
        var shuffled = fixture.NewStore();
        var job = PipelineFixture.Job("cocoa", shards: shards, maxRounds: 4);
        var finishOrder = new List<int>();

        var a = await PipelineFixture.RunAsync(first, job);
        var b = await PipelineFixture.RunAsync(second, job);
        var c = await PipelineFixture.RunAsync(shuffled, job, ShuffledWorkers.Options(seed: 5, finishOrder));

        Assert.True(a.Succeeded && b.Succeeded && c.Succeeded, $"{a.Cause} {b.Cause} {c.Cause}");
        Assert.Contains(finishOrder.Chunk(4), r => !r.SequenceEqual(r.Order()));
        for (var round = 0; round <= 4; round++)
        {
            var key = RunLayout.Model("test-run", round);
            var expected = await first.GetAsync(key);
            Assert.Equal(expected, await second.GetAsync(key));
            Assert.Equal(expected, await shuffled.GetAsync(key));
        }
        Assert.Equal(JsonSerializer.Serialize(a.Summary!.RelativeGap), JsonSerializer.Serialize(c.Summary!.RelativeGap));
    }
}
