using System.Text.Json.Nodes;
using StepML.Core.Communication;
using StepML.Core.Tensors;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>
/// Issue 9 points 2 and 4 through the real state machine: tree aggregation (communication.pattern "tree", fanIn)
/// converges like AllReduce and agrees with it up to summation order; message drops (communication.dropRate) are the
/// seeded draws, and p = 0 is the plain run bit for bit.
/// </summary>
public sealed class CommunicationPatternTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static JsonObject Job(int partitions, int maxRounds, JsonObject communication, string algorithm = "admm")
    {
        var job = PipelineFixture.Job(algorithm, maxRounds: maxRounds, partitions: partitions);
        job["communication"] = communication;
        return job;
    }

    private static async Task<float[]> FinalAsync(IObjectStore store) =>
        TensorCodec.Decode(await store.GetAsync(RunLayout.FinalModel("test-run")), "final", out _);

    [Theory]
    [InlineData(8, 2)]
    [InlineData(8, 3)]
    [InlineData(27, 2)]
    [InlineData(27, 3)]
    public async Task Train_Tree_WithinOnePercentOfOptimumAndAgreesWithAllReduce(int partitions, int fanIn)
    {
        var treeStore = fixture.NewStore();
        var flatStore = fixture.NewStore();

        // Full-batch GA-SGD: its iterates do not depend on how the rows are split, so 27 small partitions converge as
        // fast as 8 (ADMM's local problems on 800 rows each would need more rounds).
        var tree = await PipelineFixture.RunAsync(treeStore, Job(partitions, 120, new JsonObject { ["pattern"] = "tree", ["fanIn"] = fanIn }, "ga-sgd"));
        var flat = await PipelineFixture.RunAsync(flatStore, Job(partitions, 120, new JsonObject { ["pattern"] = "all-reduce" }, "ga-sgd"));

        Assert.True(tree.Succeeded, $"{tree.Status}: {tree.Error} {tree.Cause}");
        Assert.True(flat.Succeeded, $"{flat.Status}: {flat.Error} {flat.Cause}");
        var optimum = await PipelineFixture.OptimumAsync(treeStore, "test-run", partitions, 1e-3);
        Assert.InRange((tree.Summary!.TrainLoss - optimum) / optimum, -1e-6, 0.01);
        // Same maths, different summation order (partial averages per level, stored as float32): 120 rounds apart by
        // no more than float rounding carried through the iterations.
        var treeModel = await FinalAsync(treeStore);
        var flatModel = await FinalAsync(flatStore);
        for (var i = 0; i < flatModel.Length; i++)
            Assert.InRange(treeModel[i] - flatModel[i], -1e-4f * (1 + Math.Abs(flatModel[i])), 1e-4f * (1 + Math.Abs(flatModel[i])));
        // The partial results of the levels below the root went through storage (the last round's are kept; SpentRounds
        // deletes a round's two rounds later).
        var levels = TreePlan.LevelSizes(partitions, fanIn);
        Assert.True(await treeStore.ExistsAsync(RunLayout.TreePartial("test-run", tree.Summary!.Rounds - 1, levels.Length - 2, levels[^2] - 1)));
    }

    [Fact]
    public async Task Train_TreeTwice_BitIdentical()
    {
        var first = fixture.NewStore();
        var second = fixture.NewStore();
        var job = Job(27, 5, new JsonObject { ["pattern"] = "tree", ["fanIn"] = 3 });

        await PipelineFixture.RunAsync(first, job);
        await PipelineFixture.RunAsync(second, job);

        Assert.Equal(await first.GetAsync(RunLayout.FinalModel("test-run")), await second.GetAsync(RunLayout.FinalModel("test-run")));
    }

    [Fact]
    public async Task Train_DropRateZero_BitIdenticalToThePlainRun()
    {
        var plain = fixture.NewStore();
        var lossless = fixture.NewStore();

        await PipelineFixture.RunAsync(plain, Job(8, 8, new JsonObject { ["pattern"] = "scatter-reduce", ["shards"] = 2 }));
        var run = await PipelineFixture.RunAsync(lossless, Job(8, 8, new JsonObject { ["pattern"] = "scatter-reduce", ["shards"] = 2, ["dropRate"] = 0.0 }));

        Assert.True(run.Succeeded, $"{run.Status}: {run.Error} {run.Cause}");
        for (var round = 0; round <= 8; round++)
            Assert.Equal(await plain.GetAsync(RunLayout.Model("test-run", round)), await lossless.GetAsync(RunLayout.Model("test-run", round)));
        Assert.Equal(await plain.GetAsync(RunLayout.FinalModel("test-run")), await lossless.GetAsync(RunLayout.FinalModel("test-run")));
    }

    [Theory]
    [InlineData("scatter-reduce", 2)]
    [InlineData("tree", 1)]
    public async Task Train_DropRate_MergedStatisticsMatchTheSeededDraws(string pattern, int shards)
    {
        const double p = 0.3;
        const int partitions = 8, rounds = 6;
        var store = fixture.NewStore();
        var communication = new JsonObject { ["pattern"] = pattern, ["shards"] = shards, ["dropRate"] = p };
        if (pattern == "tree") communication["fanIn"] = 2;

        var result = await PipelineFixture.RunAsync(store, Job(partitions, rounds, communication));

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var metrics = await DecideStep.ReadMetricsAsync(store, "test-run");
        Assert.Equal(rounds, metrics.Count);
        var totalDropped = 0;
        foreach (var line in metrics)
        {
            // Drawn here from the job's seed (5) alone: what each merger of each round must have received.
            var dropped = Enumerable.Range(0, shards).Sum(s => Enumerable.Range(0, partitions).Count(q => MessageDrops.IsDropped(p, 5, line.Round, q, s)));
            Assert.Equal(dropped, line.DroppedStatistics);
            Assert.Equal(shards * partitions - dropped, line.MergedStatistics);
            totalDropped += dropped;
        }
        // About p of the 8·S·6 messages were lost: the draws are not all one way.
        Assert.InRange(totalDropped, 1, shards * partitions * rounds - 1);
    }
}
