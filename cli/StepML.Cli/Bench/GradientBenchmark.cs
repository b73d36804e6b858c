using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Cli.Bench;

/// <summary>
/// The dense logistic-regression gradient pass (<see cref="LogisticRegression.LossAndGradient"/> over a whole
/// partition far larger than the last-level cache) in GB/s of feature data read, next to the single-core memory
/// read bandwidth measured on the very same array (<see cref="TensorPrimitives.Sum(ReadOnlySpan{float})"/>). A pass
/// that streams the matrix once at memory speed scores 1; the target is 0.5.
/// </summary>
internal static class GradientBenchmark
{
    public const double TargetRatio = 0.5;
    private const int ReferenceRows = 20_000;

    public static JsonObject Run(int rows, int features, int repetitions)
    {
        var random = new Xoshiro256(11);
        var values = new float[(long)rows * features];
        for (var i = 0; i < values.Length; i++) values[i] = 2 * random.NextFloat() - 1;
        var labels = new float[rows];
        for (var i = 0; i < rows; i++) labels[i] = random.NextFloat() < 0.5f ? 0f : 1f;
        var data = Partition.CreateDense(features, labels, values);
        var model = new LogisticRegression(features);
        var parameters = new float[model.ParameterCount];
        for (var i = 0; i < parameters.Length; i++) parameters[i] = 0.5f * (random.NextFloat() - 0.5f);
        var gradient = new float[model.ParameterCount];
        var all = RowSelection.All(data);

        double loss = 0, sum = 0;
        // Interleaved, so that both figures of the ratio see the same machine load (other processes come and go).
        var (gradientTiming, sumTiming) = Measure.BestInterleaved(repetitions,
            () => loss = model.LossAndGradient(parameters, data, all, gradient),
            () => sum = TensorPrimitives.Sum(values));
        double gradientSeconds = gradientTiming.Seconds, sumSeconds = sumTiming.Seconds;
        if (!double.IsFinite(loss) || !float.IsFinite((float)sum))
            throw new InvalidOperationException($"the gradient benchmark produced a non-finite result (loss {loss}, sum {sum})");

        var bytes = (double)values.LongLength * sizeof(float);
        var gradientGbs = bytes / gradientSeconds / 1e9;
        var memoryGbs = bytes / sumSeconds / 1e9;
        var (lossError, gradientError) = CompareWithReference(model, parameters, data, Math.Min(rows, ReferenceRows));
        return new JsonObject
        {
            ["rows"] = rows,
            ["features"] = features,
            ["featureBytes"] = (long)bytes,
            ["repetitions"] = repetitions,
            ["gradientBestSeconds"] = Measure.Round(gradientSeconds, 6),
            ["memoryReadBestSeconds"] = Measure.Round(sumSeconds, 6),
            ["gradientGigabytesPerSecond"] = Measure.Round(gradientGbs, 3),
            ["memoryReadGigabytesPerSecond"] = Measure.Round(memoryGbs, 3),
            ["ratio"] = Measure.Round(gradientGbs / memoryGbs, 3),
            ["gradientBestWallSeconds"] = Measure.Round(gradientTiming.WallSeconds, 6),
            ["memoryReadBestWallSeconds"] = Measure.Round(sumTiming.WallSeconds, 6),
            ["wallClockRatio"] = Measure.Round(sumTiming.WallSeconds / gradientTiming.WallSeconds, 3),
            ["targetRatio"] = TargetRatio,
            ["meetsTarget"] = gradientGbs / memoryGbs >= TargetRatio,
            ["referenceRows"] = Math.Min(rows, ReferenceRows),
            ["lossRelativeErrorVsDoubleReference"] = lossError,
            ["gradientMaxAbsErrorVsDoubleReference"] = gradientError,
        };
    }

    /// <summary>The kernel against a plain double-precision loop on the first rows: the optimised kernel must stay
    /// within float rounding of the textbook formula.</summary>
    private static (double Loss, double Gradient) CompareWithReference(LogisticRegression model, float[] parameters, Partition data, int rows)
    {
        var d = data.Features;
        var gradient = new float[model.ParameterCount];
        var loss = model.LossAndGradient(parameters, data, new RowSelection(0, rows), gradient);
        var referenceGradient = new double[model.ParameterCount];
        double referenceLoss = 0;
        for (var r = 0; r < rows; r++)
        {
            double z = parameters[d];
            for (var j = 0; j < d; j++) z += (double)parameters[j] * data.Dense![r * d + j];
            var y = data.Labels[r];
            referenceLoss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - y * z;
            var g = 1 / (1 + Math.Exp(-z)) - y;
            for (var j = 0; j < d; j++) referenceGradient[j] += g * data.Dense![r * d + j];
            referenceGradient[d] += g;
        }
        referenceLoss /= rows;
        double worst = 0;
        for (var j = 0; j < gradient.Length; j++) worst = Math.Max(worst, Math.Abs(gradient[j] - referenceGradient[j] / rows));
        return (Math.Abs(loss - referenceLoss) / Math.Abs(referenceLoss), worst);
    }
}
