using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

public enum WeightInit
{
    /// <summary>N(0, 2/fanIn): He et al. 2015, for layers followed by ReLU.</summary>
    He,
    /// <summary>N(0, 2/(fanIn + fanOut)): Glorot and Bengio 2010, for the output layer.</summary>
    Xavier,
}

internal static class Init
{
    public static void Gaussian(Span<float> weights, int fanIn, int fanOut, WeightInit kind, Xoshiro256 random)
    {
        var sd = kind == WeightInit.He ? Math.Sqrt(2.0 / fanIn) : Math.Sqrt(2.0 / (fanIn + fanOut));
        for (var i = 0; i < weights.Length; i++) weights[i] = (float)(sd * random.NextGaussian());
    }

    /// <summary>Adds the column sums of a rows×columns matrix to <paramref name="sums"/>.</summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(sums, matrix.Slice(r * columns, columns), sums);
    }

    public static void AddRowBias(Span<float> matrix, int rows, ReadOnlySpan<float> bias)
    {
        var columns = bias.Length;
        for (var r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}
