using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

public enum WeightInit
{
    /// <summary>N(0, 2/fanIn): He et al. 2015, for layers followed by ReLU.</summary>
    He,
    /// <summary>N(0, 2/(fanIn + fanOut)): Glorot and Bengio 2010, for the output layer.</summary>
    Xavier,
    /// <summary>U(−1/√fanIn, 1/√fanIn), PyTorch's default for Conv2d (kaiming_uniform with a = √5), for a convolution
    /// batch normalisation follows. There the weights' scale sets only the step: the output is invariant to it, so a
    /// step of η moves the layer by about η/‖w‖. He's weights are √6 times larger, so Adam's steps were √6 times
    /// smaller and MobileNet (width 0.125) sat at chance for 30 more steps; PyTorch with He's init lags the same way.</summary>
    Uniform,
}

internal static class Init
{
    public static void Random(Span<float> weights, int fanIn, int fanOut, WeightInit kind, Xoshiro256 random)
    {
        if (kind == WeightInit.Uniform)
        {
            var bound = 1 / Math.Sqrt(fanIn);
            for (var i = 0; i < weights.Length; i++) weights[i] = (float)(bound * (2 * random.NextDouble() - 1));
            return;
        }
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
