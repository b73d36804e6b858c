using StepML.Core.Cost;

namespace StepML.Core.Tests.Cost;

public class RoundUsageTests
{
    private static readonly DeployedMemory s_memory = new(new Dictionary<string, int>
    {
        ["Worker"] = 2048, ["Merge"] = 1769, ["Decide"] = 512, ["Prepare"] = 2048, ["Finalize"] = 1024, ["Partition"] = 1769,
    });

    private static RoundShape Shape(int partitions, int shards, IReadOnlyList<int>? tree = null, string channel = "s3", bool state = false) =>
        new(partitions, shards, tree, state, OptimizerState: false, channel, StatisticBytes: 4_000, ModelBytes: 4_000);

    [Fact]
    public void Transitions_AllReduce_CountsStatesEnteredAndChildExecutions()
    {
        // Workers, 8 EXPRESS children, Aggregation?, Merge, 1 MergeShard, Decide, Converged?
        Assert.Equal(1 + 8 + 1 + 1 + 1 + 1 + 1, RoundUsage.Transitions(Shape(8, 1)));
        // Scatter-reduce over 2 shards: one more MergeShard.
        Assert.Equal(15, RoundUsage.Transitions(Shape(8, 2)));
    }

    [Fact]
    public void Transitions_Tree_CountsEveryLevelsStates()
    {
        // 27 partitions, fan-in 3: levels of 9, 3, 1 mergers. Workers + 27 children + Aggregation? + TreeStart,
        // per level TreeLevel + TreeMerge + its mergers + TreeDone?, two TreeNext, Decide, Converged?.
        var expected = 1 + 27 + 1 + 1 + (3 + 9) + (3 + 3) + (3 + 1) + 2 + 2;
        Assert.Equal(expected, RoundUsage.Transitions(Shape(27, 1, [9, 3, 1])));
    }

    [Fact]
    public void Of_ObjectStoreChannel_CountsRequestsLikeTheStoreRequestBenchmark()
    {
        // A steady GA-SGD round, P = 4, S = 2 (README, "store requests of a steady round"): P model gets, S×P + S
        // ranged reads, S shard gets, metrics get; P statistic puts, S shard puts, model, record and metrics puts.
        var usage = RoundUsage.Of(Shape(4, 2), s_memory, [1, 1, 1, 1], [0.5, 0.5], 0.2, 3, firstRound: false, continueAsNew: false);

        Assert.Equal(4 + 2 * 4 + 2 + 2 + 1, usage.S3Gets);
        Assert.Equal(4 + 2 + 3, usage.S3Puts);
        Assert.Equal(0, usage.ChannelReads);
    }

    [Fact]
    public void Of_Workers_BilledAtDeployedMemoryWithExpressChildren()
    {
        var usage = RoundUsage.Of(Shape(2, 1), s_memory, [1.0, 0.25], [0.5], 0.2, 3, firstRound: true, continueAsNew: true);

        Assert.Equal(new FunctionUsage(2, 1.25, 2048), usage.Functions["Worker"]);
        Assert.Equal(1769, usage.Functions["Merge"].MemoryMb);
        Assert.Equal(2, usage.ExpressExecutions);
        // 1.0 s and 0.3 s (0.25 rounded up to 100 ms) at 64 MB.
        Assert.Equal((1.0 + 0.3) * 64 / 1024, usage.ExpressGbSeconds, 9);
        Assert.Equal(RoundUsage.Transitions(Shape(2, 1)) + RoundUsage.ContinueTransitions, usage.Transitions);
    }

    [Fact]
    public void Of_DynamoDbChannel_MovesStatisticsOffS3IntoRequestUnits()
    {
        var s3 = RoundUsage.Of(Shape(4, 1), s_memory, [1, 1, 1, 1], [1], 0.1, 3, false, false);
        var dynamo = RoundUsage.Of(Shape(4, 1, channel: "dynamodb"), s_memory, [1, 1, 1, 1], [1], 0.1, 3, false, false);

        Assert.Equal(s3.S3Gets - dynamo.ChannelReads, dynamo.S3Gets);
        Assert.Equal(s3.S3Puts - dynamo.ChannelWrites, dynamo.S3Puts);
        Assert.True(dynamo.ChannelWriteUnits >= dynamo.ChannelWrites + 4 * 4_000 / 1024);
        Assert.True(CostModel.Price(dynamo, "dynamodb").ChannelUsd > 0);
    }

    [Fact]
    public void Price_Parts_AddUpToTheTotal()
    {
        var usage = RoundUsage.Of(Shape(8, 2, channel: "redis"), s_memory, Enumerable.Repeat(2.0, 8).ToArray(), [1, 1], 0.3, 10, true, false);

        var cost = CostModel.Price(usage, "redis");

        Assert.Equal(cost.LambdaUsd + cost.S3Usd + cost.TransitionsUsd + cost.ExpressUsd + cost.ChannelUsd, cost.TotalUsd, 12);
        Assert.Equal(8 * 2.0 * 2 * Pricing.LambdaGbSecondX86 + 8 * Pricing.LambdaRequest, cost.Lambda.Single(f => f.Name == "Worker").Usd, 12);
        Assert.Equal(15 * Pricing.StepFunctionsTransition, cost.TransitionsUsd, 12);
    }

    [Fact]
    public void Plus_SameFunction_AddsInvocationsAndSeconds()
    {
        var a = ResourceUsage.Function("Worker", 2, 1.5, 2048) with { Transitions = 3, S3Gets = 1 };
        var b = ResourceUsage.Function("Worker", 1, 0.5, 2048) with { Transitions = 4, S3Puts = 2 };

        var sum = ResourceUsage.Sum([a, null, b]);

        Assert.Equal(new FunctionUsage(3, 2.0, 2048), sum.Functions["Worker"]);
        Assert.Equal(7, sum.Transitions);
        Assert.Equal((1, 2), (sum.S3Gets, sum.S3Puts));
    }

    [Theory]
    [InlineData(0.01, 64, 0.1 * 64 / 1024.0)]
    [InlineData(0.1, 64, 0.1 * 64 / 1024.0)]
    [InlineData(0.11, 100, 0.2 * 128 / 1024.0)]
    public void ExpressGbSeconds_RoundsUpTo100MsAnd64Mb(double seconds, int memoryMb, double expected) =>
        Assert.Equal(expected, Pricing.ExpressGbSeconds(seconds, memoryMb), 12);
}
