using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions.Tests;

public class MergeStepTests
{
    private static async Task<byte[][]> MergedBytesAsync(TestRun run, RunState state)
    {
        var result = new byte[state.Shards.Length][];
        for (var s = 0; s < result.Length; s++) result[s] = await run.GetAsync($"runs/{state.RunId}/rounds/{state.Round}/merged/{s}.tensor");
        return result;
    }

    [Theory]
    [InlineData("ga-sgd")]
    [InlineData("ma-sgd")]
    [InlineData("admm")]
    public async Task RunAsync_WorkersListedInShuffledOrder_BitIdenticalShards(string algorithm)
    {
        // Arrange: 5 partitions, 3 shards.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(algorithm: algorithm, partitions: 5, pattern: "scatter-reduce", shards: 3));
        var workers = await run.WorkAsync(state);
        await run.MergeAsync(state, workers);
        var expected = await MergedBytesAsync(run, state);
        var rng = new Random(17);

        for (var trial = 0; trial < 4; trial++)
        {
            // Act
            var shuffled = workers.OrderBy(_ => rng.Next()).ToArray();
            await run.MergeAsync(state, shuffled);

            // Assert
            var actual = await MergedBytesAsync(run, state);
            for (var s = 0; s < expected.Length; s++) Assert.Equal(expected[s], actual[s]);
        }
    }

    [Fact]
    public async Task RunAsync_IllConditionedStatisticsInShuffledOrder_BitIdenticalShards()
    {
        // Arrange: statistics whose double sum rounds differently in different orders (1e20 + 1 − 1e20 is 0, while
        // 1e20 − 1e20 + 1 is 1), so only a fixed summation order gives the same bits for every arrival order.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(partitions: 5, pattern: "scatter-reduce", shards: 3));
        var layout = ShardLayout.For(TestRun.Features + 1, 3);
        float[] magnitudes = [1e20f, 1f, -1e20f, 3e-3f, 0.5f];
        var workers = new WorkerOutput[5];
        for (var p = 0; p < 5; p++)
        {
            var values = new float[TestRun.Features + 1];
            for (var i = 0; i < values.Length; i++) values[i] = magnitudes[(p + i) % 5] * (1 + 0.1f * i);
            await run.Store.PutAsync($"runs/run-1/rounds/0/stats/{p}.tensor", TensorCodec.Encode(values, [values.Length], 0, layout.BlockElements));
            workers[p] = new WorkerOutput { Partition = p, Samples = 10, Loss = 0.5 }; // equal weights: ±1e20 cancel exactly
        }
        await run.MergeAsync(state, workers);
        var expected = await MergedBytesAsync(run, state);
        var rng = new Random(23);

        for (var trial = 0; trial < 8; trial++)
        {
            // Act
            await run.MergeAsync(state, workers.OrderBy(_ => rng.Next()).ToArray());

            // Assert
            var actual = await MergedBytesAsync(run, state);
            for (var s = 0; s < expected.Length; s++) Assert.Equal(expected[s], actual[s]);
        }
    }

    [Fact]
    public async Task RunAsync_CorruptedStatistic_ThrowsChecksumErrorAndKeepsModel()
    {
        // Arrange: flip one byte in the payload (past the 64-byte header) of partition 1's statistic.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var workers = await run.WorkAsync(state);
        var key = "runs/run-1/rounds/0/stats/1.tensor";
        var bytes = await run.GetAsync(key);
        bytes[TensorCodec.HeaderSize + 5] ^= 0x40;
        await run.Store.PutAsync(key, bytes);
        var model0 = await run.GetAsync("runs/run-1/model/0.tensor");

        // Act
        var e = await Assert.ThrowsAsync<TensorChecksumException>(() => run.MergeAsync(state, workers));

        // Assert
        Assert.Contains(key, e.Message);
        Assert.False(await run.ExistsAsync("runs/run-1/rounds/0/merged/0.tensor"));
        Assert.False(await run.ExistsAsync("runs/run-1/model/1.tensor"));
        Assert.Equal(model0, await run.GetAsync("runs/run-1/model/0.tensor"));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    [InlineData(40)]
    public async Task RunAsync_TruncatedStatistic_ErrorNotZeros(int cut)
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var workers = await run.WorkAsync(state);
        var key = "runs/run-1/rounds/0/stats/2.tensor";
        var bytes = await run.GetAsync(key);
        await run.Store.PutAsync(key, bytes.AsMemory(0, bytes.Length - cut));

        var e = await Assert.ThrowsAnyAsync<Exception>(() => run.MergeAsync(state, workers));

        Assert.True(e is ObjectRangeException or TensorFormatException, $"expected a range or format error, got {e.GetType().Name}: {e.Message}");
        Assert.Contains(key, e.Message);
        Assert.False(await run.ExistsAsync("runs/run-1/rounds/0/merged/0.tensor"));
    }

    [Fact]
    public async Task RunAsync_FailedWorkerSlot_LeftOutOfTheAverage()
    {
        // Arrange: partition 1's iteration failed (tolerated), so its slot carries an error and it wrote no statistic.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(algorithm: "ma-sgd"));
        var workers = await run.WorkAsync(state);
        await run.Store.DeleteAsync("runs/run-1/rounds/0/stats/1.tensor");
        workers[1] = new WorkerOutput { Error = "States.TaskFailed" };

        // Act
        var merged = await MergeStep.RunAsync(run.Context, new MergeInput("run-1", 0, 0, workers));

        // Assert: the sample-weighted mean of partitions 0 and 2 only.
        Assert.Equal(2, merged.Contributors);
        var s0 = TensorCodec.Decode(await run.GetAsync("runs/run-1/rounds/0/stats/0.tensor"), "s0", out _);
        var s2 = TensorCodec.Decode(await run.GetAsync("runs/run-1/rounds/0/stats/2.tensor"), "s2", out _);
        var result = TensorCodec.Decode(await run.GetAsync("runs/run-1/rounds/0/merged/0.tensor"), "m", out _);
        for (var i = 0; i < result.Length; i++)
        {
            var expected = (workers[0].Samples * (double)s0[i] + workers[2].Samples * (double)s2[i]) / (workers[0].Samples + workers[2].Samples);
            Assert.InRange(result[i], expected - 1e-6, expected + 1e-6);
        }
    }

    [Fact]
    public async Task RunAsync_EveryWorkerFailed_ThrowsNoStatistics()
    {
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job());

        await Assert.ThrowsAsync<NoStatisticsException>(() =>
            MergeStep.RunAsync(run.Context, new MergeInput("run-1", 0, 0, [new WorkerOutput { Error = "x" }, new WorkerOutput { Error = "y" }])));
    }

    [Fact]
    public async Task RunAsync_ShardOutOfRange_InvalidInput()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var workers = await run.WorkAsync(state);

        await Assert.ThrowsAsync<InvalidInputException>(() => MergeStep.RunAsync(run.Context, new MergeInput("run-1", 0, 1, workers)));
    }

    [Theory]
    [InlineData("ga-sgd", 3)]
    [InlineData("admm", 3)]
    [InlineData("ga-sgd", 5)] // 7 parameters in 5 shards: 4 blocks of 2, so one shard owns no block
    [InlineData("admm", 7)]
    [InlineData("ga-sgd-momentum", 3)] // optimizer state sharded like the model and read back in the next round
    [InlineData("ga-sgd-momentum", 5)]
    public async Task ScatterReduce_ThreeRounds_BitIdenticalToAllReduce(string algorithm, int shards)
    {
        // Arrange
        using var run = new TestRun();
        string Job(string id, string pattern, int s) => algorithm == "ga-sgd-momentum"
            ? TestRun.Job(runId: id, algorithm: "ga-sgd", pattern: pattern, shards: s).Replace("\"rho\": 0.5", "\"rho\": 0.5, \"momentum\": 0.9")
            : TestRun.Job(runId: id, algorithm: algorithm, pattern: pattern, shards: s);
        var all = await run.PrepareAsync(Job("all", "all-reduce", 1));
        var scatter = await run.PrepareAsync(Job("scatter", "scatter-reduce", shards));

        // Act
        for (var r = 0; r < 3; r++)
        {
            all = await run.RoundAsync(all);
            scatter = await run.RoundAsync(scatter);
        }

        // Assert: the same elementwise sums and updates, only split differently.
        var a = TensorCodec.Decode(await run.GetAsync("runs/all/model/3.tensor"), "all", out _);
        var s = TensorCodec.Decode(await run.GetAsync("runs/scatter/model/3.tensor"), "scatter", out _);
        Assert.Equal(a, s);
        Assert.Equal(all.PreviousLoss, scatter.PreviousLoss);
    }
}
