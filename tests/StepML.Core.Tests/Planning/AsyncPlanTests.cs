using StepML.Core.Cost;
using StepML.Core.Jobs;
using StepML.Core.Planning;

namespace StepML.Core.Tests.Planning;

/// <summary>stepml plan for an asynchronous job: a row is one update (local work, then the model and its optimizer state
/// read and written), and the Lambda bill covers the workers' loops and their invocations rather than rounds.</summary>
public class AsyncPlanTests
{
    private static PlanInput Input(string synchronization, double momentum = 0, long parameters = 29, int rounds = 1000) => new(
        new JobSpec
        {
            Model = new ModelSpec { Type = ModelTypes.Logistic },
            Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 64, Momentum = momentum },
            Communication = new CommunicationSpec { Synchronization = synchronization },
        },
        TrainingRows: 200_000, Features: 28, DatasetBytes: 60_000_000,
        new CalibrationResult(0.0005, 1e-6, 4096, parameters), rounds);

    [Fact]
    public void Predict_Async_AnUpdateIsLocalWorkThenTheModelAndItsOptimizerStateReadAndWritten()
    {
        var constants = new CloudConstants();
        var plain = new CloudModel(Input(Synchronizations.Async, parameters: 10_000_000), constants, PlanTests.Memory).Predict(2048, 8);
        var momentum = new CloudModel(Input(Synchronizations.Async, momentum: 0.9, parameters: 10_000_000), constants, PlanTests.Memory).Predict(2048, 8);

        Assert.Equal(plain.ComputeSeconds + plain.CommunicationSeconds, plain.RoundSeconds, 12);
        // 40 MB of model each way; momentum adds as much state again to every read and write.
        Assert.Equal(2 * (constants.S3LatencySeconds + 40e6 / constants.S3BytesPerSecond) + 2 * constants.S3LatencySeconds, plain.CommunicationSeconds, 9);
        Assert.Equal(plain.CommunicationSeconds + 2 * 40e6 / constants.S3BytesPerSecond, momentum.CommunicationSeconds, 9);
        Assert.True(plain.TotalSeconds >= 1000 * plain.RoundSeconds, $"{plain.TotalSeconds} s for 1,000 updates of {plain.RoundSeconds} s");
    }

    [Fact]
    public void Predict_AsyncTinyModelManyUpdates_CheaperThanTheSameJobInSynchronousRounds()
    {
        // A synchronous round pays 5 + P + S transitions and every worker's start; the asynchronous loop pays two per
        // invocation, and an invocation holds many updates.
        var sync = new CloudModel(Input(Synchronizations.Sync), new CloudConstants(), PlanTests.Memory).Predict(2048, 8);
        var async = new CloudModel(Input(Synchronizations.Async), new CloudConstants(), PlanTests.Memory).Predict(2048, 8);

        Assert.True(async.TotalUsd < sync.TotalUsd, $"async ${async.TotalUsd:F4} against sync ${sync.TotalUsd:F4}");
    }

    [Fact]
    public void Predict_AsyncUpdatePastTheRoundBudget_Infeasible()
    {
        var input = Input(Synchronizations.Async) with { Calibration = new CalibrationResult(500, 0, 4096, 29) };

        var point = new CloudModel(input, new CloudConstants(), PlanTests.Memory).Predict(2048, 8);

        Assert.False(point.Feasible);
        Assert.Contains("one update takes", point.Infeasible);
    }
}
