using StepML.Core.Cost;
using StepML.Core.Jobs;
using StepML.Core.Planning;

namespace StepML.Core.Tests.Planning;

public class PlanTests
{
    /// <summary>The deployed memory sizes the plan tests price with.</summary>
    internal static readonly DeployedMemory Memory = new(new Dictionary<string, int>
    {
        ["Worker"] = 2048, ["Merge"] = 1769, ["Decide"] = 512, ["Prepare"] = 2048, ["Finalize"] = 1024, ["Partition"] = 1769,
    });

    private static PlanInput Input(string channel = "s3", double perRowMicroseconds = 2, int rounds = 50) => new(
        new JobSpec
        {
            Model = new ModelSpec { Type = ModelTypes.Logistic },
            Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Admm, LocalEpochs = 2 },
            Communication = new CommunicationSpec { Channel = channel },
        },
        TrainingRows: 2_000_000, Features: 28, DatasetBytes: 600_000_000,
        new CalibrationResult(0.001, perRowMicroseconds * 1e-6, 4096, 29), rounds);

    public static TheoryData<string, double, int> Cases => new()
    {
        { "s3", 2, 50 }, { "s3", 40, 10 }, { "redis", 2, 200 }, { "dynamodb", 0.5, 30 }, { "s3", 200, 5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ParetoFront_ByRisingTime_CostFallsAndNothingDominatesIt(string channel, double perRow, int rounds)
    {
        var plan = Plan.Make(Input(channel, perRow, rounds), new CloudConstants(), Memory);

        var front = plan.Pareto;
        Assert.NotEmpty(front);
        for (var i = 1; i < front.Count; i++)
        {
            Assert.True(front[i].TotalSeconds >= front[i - 1].TotalSeconds);
            Assert.True(front[i].TotalUsd < front[i - 1].TotalUsd);
        }
        var feasible = plan.Points.Where(p => p.Feasible).ToList();
        foreach (var f in front)
            Assert.DoesNotContain(feasible, p => p.TotalSeconds <= f.TotalSeconds && p.TotalUsd <= f.TotalUsd && (p.TotalSeconds < f.TotalSeconds || p.TotalUsd < f.TotalUsd));
        foreach (var p in feasible.Except(front))
            Assert.Contains(front, f => f.TotalSeconds <= p.TotalSeconds && f.TotalUsd <= p.TotalUsd);
        Assert.Equal(plan.Cheapest!.TotalUsd, front[^1].TotalUsd);
        Assert.Equal(plan.Fastest!.TotalSeconds, front[0].TotalSeconds);
    }

    [Fact]
    public void Speed_MemorySizes_OneVcpuPer1769MbUpToSixCappedByThreads()
    {
        var model = new CloudModel(Input(), new CloudConstants { WorkerThreads = 6 }, Memory);
        Assert.Equal(1.0, model.Speed(1769), 9);
        Assert.Equal(10240 / 1769.0, model.Speed(10240), 9);
        Assert.Equal(884 / 1769.0, model.Speed(884), 9);
        var oneThread = new CloudModel(Input(), new CloudConstants(), Memory);
        Assert.Equal(1.0, oneThread.Speed(10240), 9);
        Assert.Equal(oneThread.Compute(1769, 8), oneThread.Compute(10240, 8), 12);
        Assert.Equal(2 * oneThread.Compute(1769, 8) - 0.001, oneThread.Compute(1769, 4), 9);
    }

    [Fact]
    public void Predict_RoundCost_IsTheRoundUsagePriced()
    {
        var model = new CloudModel(Input(), new CloudConstants(), Memory);

        var point = model.Predict(1769, 8);

        Assert.True(point.Feasible);
        // 8 workers at 1769 MB for (compute + their requests) each: the Lambda part of a round's price at least.
        var workers = Pricing.Lambda(8 * (point.ComputeSeconds + model.WorkerCommunication(8)), 1769, 8);
        Assert.InRange(point.RoundUsd, workers + RoundUsage.Transitions(new RoundShape(8, 1, null, true, false, "s3", 116, 116)) * Pricing.StepFunctionsTransition, 1);
    }

    [Fact]
    public void Refit_FromRounds_SolvesForOverheadColdStartAndScale()
    {
        ObservedRound R(double wall) => new(4, 4 * 2.0, 1, 0.5, 0.25, wall);
        var rounds = new[] { R(10), R(4), R(4.5), R(3.5) };

        var refit = Refit.From(new CloudConstants(), rounds, predictedWorkerCompute: 1.5, predictedWorkerIo: 0.5);

        Assert.Equal(10 - 4, refit.ColdStartSeconds, 9);            // first round minus the median later round
        Assert.Equal(4 - 2.0 - 0.5 - 0.25, refit.RoundOverheadSeconds, 9); // median wall minus worker, merger, Decide
        Assert.Equal((2.0 - 0.5) / 1.5, refit.ComputeScale, 9);    // worker seconds without its requests, per calibrated second
    }

    [Fact]
    public void Predict_MiniBatchGaSgd_OneWorkerComputesTheWholeGlobalBatch()
    {
        // Same training at every worker count: one worker's round computes all 8 × 128 rows, eight workers 128 each.
        var input = Input() with
        {
            Calibration = new CalibrationResult(FixedSeconds: 0, SecondsPerRow: 1e-3, SampleRows: 4096, Parameters: 29),
            Job = new JobSpec
            {
                Dataset = new DatasetSpec { Partitions = 8 },
                Model = new ModelSpec { Type = ModelTypes.Logistic },
                Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 128 },
            },
        };
        var model = new CloudModel(input, new CloudConstants(), Memory);

        Assert.Equal(8 * model.Compute(1769, 8), model.Compute(1769, 1), 1e-9 * model.Compute(1769, 1));
        Assert.InRange(model.Predict(1769, 1).ComputeSeconds, 1.0, double.MaxValue);
    }
}
