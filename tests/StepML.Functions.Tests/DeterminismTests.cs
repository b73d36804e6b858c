using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

public class DeterminismTests
{
    [Theory]
    [InlineData("ga-sgd")]
    [InlineData("ma-sgd")]
    [InlineData("admm")]
    public async Task Rounds_SameJobTwiceWithMiniBatches_BitIdenticalModels(string algorithm)
    {
        // Arrange: mini-batches of 50 and 2 local epochs, so the seeded schedules matter.
        using var run = new TestRun();
        string Job(string id) => TestRun.Job(runId: id, algorithm: algorithm, partitions: 4, pattern: "scatter-reduce", shards: 2)
            .Replace("\"batchSize\": 0", "\"batchSize\": 50, \"localEpochs\": 2");
        var a = await run.PrepareAsync(Job("a"));
        var b = await run.PrepareAsync(Job("b"));

        // Act
        for (var r = 0; r < 3; r++)
        {
            a = await run.RoundAsync(a);
            b = await run.RoundAsync(b);
        }

        // Assert
        var ma = TensorCodec.Decode(await run.GetAsync("runs/a/model/3.tensor"), "a", out _);
        var mb = TensorCodec.Decode(await run.GetAsync("runs/b/model/3.tensor"), "b", out _);
        Assert.Equal(ma, mb);
        Assert.Equal(a.PreviousLoss, b.PreviousLoss);
        Assert.True(a.PreviousLoss < a.FirstLoss, $"{algorithm}: loss did not fall over 3 rounds ({a.FirstLoss} → {a.PreviousLoss})");
    }
}
