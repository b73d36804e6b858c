using StepML.Core.Data;

namespace StepML.Core.Tests.Models;

/// <summary>Seeded dense binary data and a double-precision scalar oracle of the logistic objective.</summary>
internal static class ModelTestData
{
    /// <summary>Features ~ N(0,1); labels from a random linear model plus noise, so both classes occur.</summary>
    public static Partition Dense(int rows, int features, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var truth = new double[features + 1];
        for (var j = 0; j <= features; j++) truth[j] = rng.NextGaussian();
        var x = new float[rows * features];
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            var z = truth[features];
            for (var j = 0; j < features; j++)
            {
                x[r * features + j] = (float)rng.NextGaussian();
                z += truth[j] * x[r * features + j];
            }
            y[r] = z + 0.5 * rng.NextGaussian() > 0 ? 1f : 0f;
        }
        return Partition.CreateDense(features, y, x);
    }

    public static float[] RandomParameters(int count, ulong seed, double scale)
    {
        var rng = new Xoshiro256(seed);
        var w = new float[count];
        for (var i = 0; i < count; i++) w[i] = (float)(scale * rng.NextGaussian());
        return w;
    }

    /// <summary>Mean of log(1 + e^z) − y·z over the given rows, z = w·x + b, all in double.</summary>
    public static double Loss(ReadOnlySpan<double> w, Partition data, IReadOnlyList<int> rows)
    {
        var d = data.Features;
        double sum = 0;
        foreach (var r in rows)
        {
            var z = w[d];
            var x = data.DenseRow(r);
            for (var j = 0; j < d; j++) z += w[j] * x[j];
            sum += (z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z))) - data.Labels[r] * z;
        }
        return sum / rows.Count;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    public static int[] AllRows(Partition data) => Enumerable.Range(0, data.Rows).ToArray();
}
