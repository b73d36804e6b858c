using StepML.Core.Communication;
using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

/// <summary>communication.dropRate (seed 003): seeded message loss between workers and mergers.</summary>
public class MessageDropTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void IsDropped_ManyDraws_FrequencyIsTheRateAndShardsDrawIndependently(double p)
    {
        const int draws = 100_000;
        int dropped = 0, both = 0;
        for (var i = 0; i < draws; i++)
        {
            var a = MessageDrops.IsDropped(p, 42, round: i / 100, partition: i % 100, shard: 0);
            var b = MessageDrops.IsDropped(p, 42, round: i / 100, partition: i % 100, shard: 1);
            if (a) dropped++;
            if (a && b) both++;
        }

        Assert.InRange((double)dropped / draws, p - 0.01, p + 0.01);
        Assert.InRange((double)both / draws, p * p - 0.01, p * p + 0.01);
    }

    [Fact]
    public void IsDropped_SameArguments_SameAnswerAndSeedMatters()
    {
        var first = Enumerable.Range(0, 200).Select(i => MessageDrops.IsDropped(0.3, 7, 3, i, 1)).ToArray();
        var again = Enumerable.Range(0, 200).Select(i => MessageDrops.IsDropped(0.3, 7, 3, i, 1)).ToArray();
        var otherSeed = Enumerable.Range(0, 200).Select(i => MessageDrops.IsDropped(0.3, 8, 3, i, 1)).ToArray();

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
        Assert.DoesNotContain(true, Enumerable.Range(0, 200).Select(i => MessageDrops.IsDropped(0, 7, 3, i, 1)));
    }

    [Theory]
    [InlineData("ga-sgd")]
    [InlineData("admm")]
    public async Task MergeAsync_DropRate_EqualsMergingOnlyTheStatisticsThatArrived(string algorithm)
    {
        // Arrange: the same run twice, with and without drops; 8 partitions, 2 shards.
        const double p = 0.4;
        using var lossy = new TestRun();
        using var reliable = new TestRun();
        var lossyState = await lossy.PrepareAsync(TestRun.Job(algorithm: algorithm, partitions: 8, pattern: "scatter-reduce", shards: 2, communication: $", \"dropRate\": {p}"));
        var reliableState = await reliable.PrepareAsync(TestRun.Job(algorithm: algorithm, partitions: 8, pattern: "scatter-reduce", shards: 2));
        var workers = await lossy.WorkAsync(lossyState);
        await reliable.WorkAsync(reliableState);

        // Act
        var merged = await lossy.MergeAsync(lossyState, workers);

        // Assert: each lossy shard is bit for bit the reliable merge of exactly the statistics its draws let through.
        for (var shard = 0; shard < 2; shard++)
        {
            var arrived = workers.Where(w => !MessageDrops.IsDropped(p, 5, 0, w.Partition!.Value, shard)).ToArray();
            Assert.InRange(arrived.Length, 1, 7); // the seed gives a mix of lost and delivered statistics
            Assert.Equal(arrived.Length, merged[shard].Contributors);
            Assert.Equal(8 - arrived.Length, merged[shard].Dropped);
            await MergeStep.RunAsync(reliable.Context, new MergeInput(reliableState.RunId, 0, shard, arrived));
            var key = $"runs/run-1/rounds/0/merged/{shard}.tensor";
            Assert.Equal(await reliable.GetAsync(key), await lossy.GetAsync(key));
        }
    }

    [Fact]
    public async Task MergeAsync_EveryStatisticDropped_KeepsTheShardUnchanged()
    {
        // Arrange: with p = 0.999 the seeded draws lose all three statistics of round 0, shard 0.
        const double p = 0.999;
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(algorithm: "ga-sgd", partitions: 3, communication: $", \"dropRate\": {p}"));
        Assert.All(state.Partitions, q => Assert.True(MessageDrops.IsDropped(p, 5, 0, q, 0)));
        var workers = await run.WorkAsync(state);

        // Act
        var merged = await run.MergeAsync(state, workers);

        // Assert
        Assert.Equal(0, merged[0].Contributors);
        Assert.Equal(3, merged[0].Dropped);
        var model = TensorCodec.Decode(await run.GetAsync("runs/run-1/model/0.tensor"), "model", out _);
        var shard = TensorCodec.Decode(await run.GetAsync("runs/run-1/rounds/0/merged/0.tensor"), "merged", out _);
        Assert.Equal(model, shard);
    }
}
