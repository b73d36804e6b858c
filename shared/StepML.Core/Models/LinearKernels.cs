using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>A loss of the margin z = w·x + b of a binary linear model with label y ∈ {0, 1}.</summary>
internal interface IMarginLoss
{
    static abstract double Loss(float z, float y);

    /// <summary>∂loss/∂z (a subgradient where the loss has a kink).</summary>
    static abstract float Slope(float z, float y);

    static abstract bool Correct(float z, float y);
}

/// <summary>log(1 + e^z) − y·z, computed as max(z,0) + log1p(e^−|z|) − y·z so it never overflows.</summary>
internal readonly struct LogisticLoss : IMarginLoss
{
    public static double Loss(float z, float y) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z))) - y * z;

    public static float Slope(float z, float y) => (z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z))) - y;

    public static bool Correct(float z, float y) => (z > 0 ? 1f : 0f) == y;
}

/// <summary>Hinge max(0, 1 − s·z) with s = 2y − 1 ∈ {−1, +1}; the subgradient at the kink s·z = 1 is 0.</summary>
internal readonly struct HingeLoss : IMarginLoss
{
    public static double Loss(float z, float y) => Math.Max(0, 1 - (2 * y - 1) * (double)z);

    public static float Slope(float z, float y)
    {
        var s = 2 * y - 1;
        return s * z < 1 ? -s : 0f;
    }

    public static bool Correct(float z, float y) => (z > 0 ? 1f : 0f) == y;
}

/// <summary>Squared hinge max(0, 1 − s·z)² with s = 2y − 1; slope −2s·max(0, 1 − s·z) (continuous).</summary>
internal readonly struct SquaredHingeLoss : IMarginLoss
{
    public static double Loss(float z, float y)
    {
        var m = Math.Max(0, 1 - (2 * y - 1) * (double)z);
        return m * m;
    }

    public static float Slope(float z, float y)
    {
        var s = 2 * y - 1;
        return -2 * s * MathF.Max(0, 1 - s * z);
    }

    public static bool Correct(float z, float y) => (z > 0 ? 1f : 0f) == y;
}

/// <summary>
/// Kernels shared by the binary linear models (parameters: d weights then the bias b). Dense rows go through
/// <see cref="TensorPrimitives"/>; CSR rows touch only their non-zeros: z = b + Σ_k w[idx_k]·v_k and the gradient
/// is accumulated as g[idx_k] += ℓ'(z)·v_k into a dense vector, so no row is ever densified.
/// </summary>
internal static class LinearKernels
{
    private const int Block = 256;

    public static double LossAndGradient<TLoss>(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
        where TLoss : struct, IMarginLoss
    {
        if (gradient.Length != parameters.Length) throw new ArgumentException($"gradient has {gradient.Length} values, the model {parameters.Length}");
        gradient.Clear();
        if (rows.Count == 0) return 0;
        var d = parameters.Length - 1;
        var w = parameters[..d];
        var bias = parameters[d];
        var gw = gradient[..d];
        var labels = data.Labels;
        double loss = 0, gb = 0;
        if (data.IsSparse)
        {
            var offsets = data.RowOffsets!;
            var indices = data.Indices!;
            var values = data.Values!;
            for (var i = 0; i < rows.Count; i++)
            {
                var r = rows.RowAt(i);
                var start = offsets[r];
                var length = offsets[r + 1] - start;
                var idx = indices.AsSpan(start, length);
                var val = values.AsSpan(start, length);
                var z = SparseDot(w, idx, val) + bias;
                var y = labels[r];
                loss += TLoss.Loss(z, y);
                var g = TLoss.Slope(z, y);
                if (g == 0) continue;
                gb += g;
                SparseAxpy(gw, idx, val, g);
            }
        }
        else
        {
            var x = data.Dense!;
            Span<float> slopes = stackalloc float[Block];
            for (var start = 0; start < rows.Count; start += Block)
            {
                var n = Math.Min(Block, rows.Count - start);
                // Pass 1: margins and slopes of the block (reads w); pass 2: gradient += Σ g_i x_i (writes g).
                for (var i = 0; i < n; i++)
                {
                    var r = rows.RowAt(start + i);
                    var z = TensorPrimitives.Dot(w, x.AsSpan(r * d, d)) + bias;
                    var y = labels[r];
                    loss += TLoss.Loss(z, y);
                    var g = TLoss.Slope(z, y);
                    slopes[i] = g;
                    gb += g;
                }
                for (var i = 0; i < n; i++)
                    if (slopes[i] != 0)
                        TensorPrimitives.MultiplyAdd(x.AsSpan(rows.RowAt(start + i) * d, d), slopes[i], gw, gw);
            }
        }
        TensorPrimitives.Multiply(gw, 1f / rows.Count, gw);
        gradient[d] = (float)(gb / rows.Count);
        return loss / rows.Count;
    }

    public static Evaluation Evaluate<TLoss>(ReadOnlySpan<float> parameters, Partition data) where TLoss : struct, IMarginLoss
    {
        var d = parameters.Length - 1;
        var w = parameters[..d];
        var bias = parameters[d];
        double loss = 0, correct = 0;
        for (var r = 0; r < data.Rows; r++)
        {
            var z = Margin(w, bias, data, r);
            var y = data.Labels[r];
            loss += TLoss.Loss(z, y);
            if (TLoss.Correct(z, y)) correct++;
        }
        return new Evaluation(loss, correct, data.Rows);
    }

    /// <summary>z = w·x_r + b for a dense or a CSR row.</summary>
    public static float Margin(ReadOnlySpan<float> w, float bias, Partition data, int r)
    {
        if (!data.IsSparse) return TensorPrimitives.Dot(w, data.Dense.AsSpan(r * w.Length, w.Length)) + bias;
        var start = data.RowOffsets![r];
        var length = data.RowOffsets[r + 1] - start;
        return SparseDot(w, data.Indices.AsSpan(start, length), data.Values.AsSpan(start, length)) + bias;
    }

    /// <summary>Σ_k w[idx_k]·v_k with four independent accumulators (the loads of w are random access; the
    /// accumulators hide their latency).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SparseDot(ReadOnlySpan<float> w, ReadOnlySpan<int> idx, ReadOnlySpan<float> val)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        var k = 0;
        for (; k + 4 <= idx.Length; k += 4)
        {
            s0 += w[idx[k]] * val[k];
            s1 += w[idx[k + 1]] * val[k + 1];
            s2 += w[idx[k + 2]] * val[k + 2];
            s3 += w[idx[k + 3]] * val[k + 3];
        }
        for (; k < idx.Length; k++) s0 += w[idx[k]] * val[k];
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>g[idx_k] += a·v_k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SparseAxpy(Span<float> g, ReadOnlySpan<int> idx, ReadOnlySpan<float> val, float a)
    {
        for (var k = 0; k < idx.Length; k++) g[idx[k]] += a * val[k];
    }

    public static void CheckShapes(IModel model, ReadOnlySpan<float> parameters, Partition data)
    {
        if (parameters.Length != model.ParameterCount)
            throw new ArgumentException($"{model.Type} over {model.Features} features has {model.ParameterCount} parameters, got {parameters.Length}");
        if (data.Features != model.Features)
            throw new ArgumentException($"partition has {data.Features} features, the model {model.Features}");
    }
}
