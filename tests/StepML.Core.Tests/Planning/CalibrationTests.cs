using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Planning;
using Xunit.Abstractions;

namespace StepML.Core.Tests.Planning;

public class CalibrationTests(ITestOutputHelper output)
{
    public static TheoryData<string> Jobs => ["logistic-admm", "softmax-ma-sgd", "mlp-ga-sgd"];

    private static (JobSpec Job, int Features) Job(string name) => name switch
    {
        "logistic-admm" => (new JobSpec
        {
            Model = new ModelSpec { Type = ModelTypes.Logistic, L2 = 1e-4 },
            Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Admm, LocalEpochs = 2, BatchSize = 500, Rho = 0.1 },
        }, 28),
        "mlp-ga-sgd" => (new JobSpec
        {
            Model = new ModelSpec { Type = ModelTypes.Mlp, Hidden = [32], Classes = 10 },
            Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 0, LearningRate = 0.1 },
        }, 40),
        _ => (new JobSpec
        {
            Model = new ModelSpec { Type = ModelTypes.Softmax, Classes = 10 },
            Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.MaSgd, BatchSize = 256, LearningRate = 0.1 },
        }, 28),
    };

    /// <summary>A model-accuracy test, not a timing target: the calibration sees a sample (16 MB, or its time target) and predicts a
    /// round on a partition 2.5 times that; the measured rounds are interleaved with the calibrations, so both see the same
    /// load on a shared machine, and medians of three of each are compared.</summary>
    [Theory]
    [MemberData(nameof(Jobs))]
    public void Measure_SmallSample_PredictsMeasuredRoundWithin30Percent(string name)
    {
        var (job, features) = Job(name);
        // 2.5 times the calibration's smallest sample, so the prediction extrapolates past what it measured.
        var partitionRows = (int)(5 * Calibration.MinimumSampleBytes / 2 / ((features + 1) * sizeof(float)));
        var partition = Calibration.Sample(job, features, partitionRows, seed: 9);
        var model = StepML.Core.Models.Models.Create(job.Model, features);
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 9, partition);
        var runner = new Calibration.Runner(model, StepML.Core.Algorithms.Algorithms.Create(job), parameters);
        runner.Time(partition, 1);

        var predicted = new List<double>();
        var measured = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var calibration = Calibration.Measure(job, features, partitionRows, seed: 9);
            predicted.Add(calibration.RoundSeconds(Calibration.RowsPerRound(job, partitionRows)));
            measured.Add(runner.Time(partition, 1));
        }

        var ratio = Refit.Median(predicted) / Refit.Median(measured);
        output.WriteLine($"{name}: {partitionRows:N0} rows, predicted {Refit.Median(predicted) * 1e3:F1} ms, measured {Refit.Median(measured) * 1e3:F1} ms, ratio {ratio:F3}");
        Assert.InRange(ratio, 0.7, 1.3);
    }

    [Fact]
    public void RowsPerRound_ByAlgorithm_CountsTheRowsWorkTouches()
    {
        var job = new JobSpec();
        Assert.Equal(3 * 1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Admm, LocalEpochs = 3 } }, 1000));
        Assert.Equal(64, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 64 } }, 1000));
        Assert.Equal(1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 0 } }, 1000));
        Assert.Equal(1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.KMeansEm } }, 1000));
    }
}
