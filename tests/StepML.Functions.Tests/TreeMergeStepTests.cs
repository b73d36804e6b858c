using StepML.Core.Communication;
using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

public class TreeMergeStepTests
{
    private const string Merged = "runs/run-1/rounds/0/merged/0.tensor";

    [Theory]
    [InlineData("ga-sgd", 8, 2)]
    [InlineData("admm", 8, 2)]
    [InlineData("ma-sgd", 9, 3)]
    [InlineData("ga-sgd", 7, 3)]
    public async Task RunAsync_AllLevels_MatchesAllReduceWithinFloatTolerance(string algorithm, int partitions, int fanIn)
    {
        // Arrange: the same run with all-reduce and with the tree pattern.
        using var flat = new TestRun();
        using var tree = new TestRun();
        var flatState = await flat.PrepareAsync(TestRun.Job(algorithm: algorithm, partitions: partitions));
        var treeState = await tree.PrepareAsync(TestRun.Job(algorithm: algorithm, partitions: partitions, pattern: "tree", communication: $", \"fanIn\": {fanIn}"));
        var flatWorkers = await flat.WorkAsync(flatState);
        var treeWorkers = await tree.WorkAsync(treeState);

        // Act
        await flat.MergeAsync(flatState, flatWorkers);
        var root = await tree.TreeMergeAsync(treeState, treeWorkers);

        // Assert: one root that merged every statistic; the model agrees with all-reduce up to summation order.
        Assert.Equal(TreePlan.LevelSizes(partitions, fanIn).Length - 1, treeState.Tree!.Last);
        var only = Assert.Single(root);
        Assert.Equal(partitions, only.Contributors);
        var expected = TensorCodec.Decode(await flat.GetAsync(Merged), "flat", out _);
        var actual = TensorCodec.Decode(await tree.GetAsync(Merged), "tree", out _);
        for (var i = 0; i < expected.Length; i++)
            Assert.InRange(actual[i], expected[i] - 1e-5f * (1 + Math.Abs(expected[i])), expected[i] + 1e-5f * (1 + Math.Abs(expected[i])));
    }

    [Fact]
    public async Task RunAsync_Rerun_BitIdentical()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(partitions: 8, pattern: "tree", communication: ", \"fanIn\": 2"));
        var workers = await run.WorkAsync(state);
        await run.TreeMergeAsync(state, workers);
        var first = await run.GetAsync(Merged);

        await run.TreeMergeAsync(state, workers.Reverse().ToArray());

        Assert.Equal(first, await run.GetAsync(Merged));
        Assert.True(await run.ExistsAsync("runs/run-1/rounds/0/tree/1/1.tensor"), "the partial results travel through storage");
    }

    [Fact]
    public async Task RunAsync_DropRate_RootCountsTheDrawsOfEveryLeaf()
    {
        const double p = 0.5;
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(partitions: 9, pattern: "tree", communication: $", \"fanIn\": 3, \"dropRate\": {p}"));
        var workers = await run.WorkAsync(state);

        var root = Assert.Single(await run.TreeMergeAsync(state, workers));

        var dropped = Enumerable.Range(0, 9).Count(q => MessageDrops.IsDropped(p, 5, 0, q, 0));
        Assert.InRange(dropped, 1, 8);
        Assert.Equal(dropped, root.Dropped);
        Assert.Equal(9 - dropped, root.Contributors);
    }

    [Fact]
    public async Task RunAsync_LevelOutsideThePlan_InvalidInput()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(partitions: 8, pattern: "tree", communication: ", \"fanIn\": 2"));
        var workers = await run.WorkAsync(state);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => MergeStep.RunAsync(run.Context, new MergeInput("run-1", 0, 0, workers, 1, 2)));

        Assert.Contains("[4, 2, 1]", error.Message);
    }
}
