namespace StepML.Cli.Tests.Pipeline;

/// <summary>Issue 2 acceptance: every algorithm, through the real state machine on the local engine, with 4
/// partitions and S = 1 and S = 4, ends within 1% of the single-machine optimum in the stated number of rounds.</summary>
public sealed class ConvergenceTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    [Theory]
    [InlineData("admm", 1, 30)]
    [InlineData("admm", 4, 30)]
    [InlineData("ma-sgd", 1, 60)]
    [InlineData("ma-sgd", 4, 60)]
    [InlineData("ga-sgd", 1, 120)]
    [InlineData("ga-sgd", 4, 120)]
    public async Task Train_FourPartitions_EndsWithinOnePercentOfOptimum(string algorithm, int shards, int maxRounds)
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job(algorithm, shards, maxRounds));

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        Assert.Equal(maxRounds, result.Summary!.Rounds);
        var optimum = await PipelineFixture.OptimumAsync(store, "test-run", 4, 1e-3);
        var gap = (result.Summary.TrainLoss - optimum) / optimum;
        Assert.InRange(gap, -1e-6, 0.01);
    }
}
