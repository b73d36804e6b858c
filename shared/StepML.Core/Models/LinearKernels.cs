using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>A loss of the margin z = w·x + b of a binary linear model with label y ∈ {0, 1}.</summary>
internal interface IMarginLoss
{
    static abstract double Loss(float z, float y);

    /// <summary>∂loss/∂z (a subgradient where the loss has a kink).</summary>
    static abstract float Slope(float z, float y);

    static abstract bool Correct(float z, float y);

    /// <summary>∂²loss/∂z² (the generalised second derivative where the slope has a kink; 0 for the hinge).</summary>
    static abstract double Curvature(float z, float y);

    /// <summary>The convex conjugate loss*(u) = sup_z (u·z − loss(z)) at a slope u = ∂loss/∂z (finite there). Every
    /// conjugate here is 0 at u = 0, which <see cref="Training.DualityGap"/> relies on.</summary>
    static abstract double Conjugate(double u, float y);
}

/// <summary>log(1 + e^z) − y·z, computed as max(z,0) + log1p(e^−|z|) − y·z so it never overflows.</summary>
internal readonly struct LogisticLoss : IMarginLoss
{
    public static double Loss(float z, float y) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z))) - y * z;

    public static float Slope(float z, float y) => (z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z))) - y;

    public static bool Correct(float z, float y) => (z > 0 ? 1f : 0f) == y;

    /// <summary>σ(z)(1 − σ(z)) = e^−|z| / (1 + e^−|z|)².</summary>
    public static double Curvature(float z, float y)
    {
        var t = Math.Exp(-Math.Abs((double)z));
        return t / ((1 + t) * (1 + t));
    }

    /// <summary>a·ln a + (1 − a)·ln(1 − a) with a = u + y ∈ [0, 1] (the negative binary entropy; 0·ln 0 = 0).</summary>
    public static double Conjugate(double u, float y)
    {
        var a = Math.Clamp(u + y, 0, 1);
        return (a > 0 ? a * Math.Log(a) : 0) + (a < 1 ? (1 - a) * Math.Log(1 - a) : 0);
    }
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

    public static double Curvature(float z, float y) => 0;

    /// <summary>s·u for s·u ∈ [−1, 0].</summary>
    public static double Conjugate(double u, float y) => (2 * y - 1) * u;
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

    /// <summary>2·[s·z &lt; 1], the generalised Hessian of Keerthi and DeCoste (2005).</summary>
    public static double Curvature(float z, float y) => (2 * y - 1) * z < 1 ? 2 : 0;

    /// <summary>s·u + u²/4 for s·u ≤ 0.</summary>
    public static double Conjugate(double u, float y) => (2 * y - 1) * u + u * u / 4;
}

/// <summary>
/// Kernels shared by the binary linear models (parameters: d weights then the bias b). Dense rows go through
/// <see cref="TensorPrimitives"/>; CSR rows touch only their non-zeros: z = b + Σ_k w[idx_k]·v_k and the gradient
/// is accumulated as g[idx_k] += ℓ'(z)·v_k into a dense vector, so no row is ever densified.
/// </summary>
internal static class LinearKernels
{
    private const int Block = 256;

    // Up to this many features, the gradient of a block is accumulated feature-chunk by feature-chunk in registers
    // (a transposed matrix-vector product) rather than row by row.
    private const int NarrowRows = 64;

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
        Span<float> margins = stackalloc float[Block];
        Span<float> targets = stackalloc float[Block];
        Span<float> slopes = stackalloc float[Block];
        var sparse = data.IsSparse;
        var x = data.Dense;
        var offsets = data.RowOffsets;
        var indices = data.Indices;
        var values = data.Values;
        for (var start = 0; start < rows.Count; start += Block)
        {
            var n = Math.Min(Block, rows.Count - start);
            // Pass 1: margins of the block (reads w); pass 2: losses and slopes, vectorised; pass 3: gradient
            // += Σ g_i x_i (writes g), skipping rows whose slope is 0 (hinge rows beyond the margin).
            if (sparse)
                for (var i = 0; i < n; i++)
                {
                    var r = rows.RowAt(start + i);
                    var begin = offsets![r];
                    margins[i] = SparseDot(w, indices.AsSpan(begin, offsets[r + 1] - begin), values.AsSpan(begin, offsets[r + 1] - begin)) + bias;
                    targets[i] = labels[r];
                }
            else if (d <= NarrowRows)
                for (var i = 0; i < n; i++)
                {
                    var r = rows.RowAt(start + i);
                    margins[i] = NarrowDot(w, x!, r * d) + bias;
                    targets[i] = labels[r];
                }
            else
                for (var i = 0; i < n; i++)
                {
                    var r = rows.RowAt(start + i);
                    margins[i] = TensorPrimitives.Dot(w, x.AsSpan(r * d, d)) + bias;
                    targets[i] = labels[r];
                }
            loss += BlockLoss<TLoss>(margins[..n], targets[..n], slopes[..n]);
            gb += TensorPrimitives.Sum(slopes[..n]);
            if (!sparse && d <= NarrowRows)
            {
                AccumulateNarrow(x!, d, rows, start, slopes[..n], gw);
                continue;
            }
            for (var i = 0; i < n; i++)
            {
                var g = slopes[i];
                if (g == 0) continue;
                var r = rows.RowAt(start + i);
                if (sparse)
                {
                    var begin = offsets![r];
                    SparseAxpy(gw, indices.AsSpan(begin, offsets[r + 1] - begin), values.AsSpan(begin, offsets[r + 1] - begin), g);
                }
                else
                {
                    TensorPrimitives.MultiplyAdd(x.AsSpan(r * d, d), g, gw, gw);
                }
            }
        }
        TensorPrimitives.Multiply(gw, 1f / rows.Count, gw);
        gradient[d] = (float)(gb / rows.Count);
        return loss / rows.Count;
    }

    /// <summary>w·x for a narrow dense row starting at <paramref name="offset"/>, inlined (8, then 4, then 1 lanes) to
    /// avoid a library call per row of a few dozen features.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float NarrowDot(ReadOnlySpan<float> w, float[] x, int offset)
    {
        var d = w.Length;
        if ((uint)offset > (uint)x.Length || x.Length - offset < d) throw new ArgumentOutOfRangeException(nameof(offset));
        ref var wr = ref MemoryMarshal.GetReference(w);
        ref var xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), offset);
        var acc = Vector256<float>.Zero;
        var j = 0;
        for (; j + 8 <= d; j += 8)
            acc = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref wr, (nuint)j), Vector256.LoadUnsafe(ref xr, (nuint)j), acc);
        var sum = Vector256.Sum(acc);
        if (j + 4 <= d)
        {
            sum += Vector128.Sum(Vector128.LoadUnsafe(ref wr, (nuint)j) * Vector128.LoadUnsafe(ref xr, (nuint)j));
            j += 4;
        }
        for (; j < d; j++) sum += Unsafe.Add(ref wr, j) * Unsafe.Add(ref xr, j);
        return sum;
    }

    /// <summary>g += Σ_i s_i x_i over a block of narrow dense rows: for every 8 features, one register accumulates
    /// over all rows of the block, so g is loaded and stored once per block instead of once per row.</summary>
    private static void AccumulateNarrow(float[] x, int d, RowSelection rows, int start, ReadOnlySpan<float> slopes, Span<float> gw)
    {
        // Only rows with a non-zero slope contribute (hinge rows beyond the margin do not).
        Span<int> offsets = stackalloc int[slopes.Length];
        Span<float> active = stackalloc float[slopes.Length];
        var n = 0;
        for (var i = 0; i < slopes.Length; i++)
        {
            if (slopes[i] == 0) continue;
            offsets[n] = rows.RowAt(start + i) * d;
            active[n++] = slopes[i];
        }
        ReadOnlySpan<float> a = active[..n];
        ref var xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref var g = ref MemoryMarshal.GetReference(gw);
        var j = 0;
        for (; j + Vector256<float>.Count <= d; j += Vector256<float>.Count)
        {
            var acc = Vector256.LoadUnsafe(ref g, (nuint)j);
            for (var i = 0; i < n; i++)
                acc = Vector256.MultiplyAddEstimate(Vector256.Create(a[i]), Vector256.LoadUnsafe(ref xr, (nuint)(offsets[i] + j)), acc);
            acc.StoreUnsafe(ref g, (nuint)j);
        }
        for (; j < d; j++)
        {
            var sum = gw[j];
            for (var i = 0; i < n; i++) sum += a[i] * x[offsets[i] + j];
            gw[j] = sum;
        }
    }

    /// <summary>Sum of the losses of a block of margins, and their slopes; for the logistic loss in float with one
    /// exp per row: Σ [max(z,0) + log(1 + e^−|z|) − y·z] (log(1 + t) is 0 for t &lt; 6e-8, an error below 6e-8 per
    /// row), slope σ(z) − y.</summary>
    private static double BlockLoss<TLoss>(ReadOnlySpan<float> z, ReadOnlySpan<float> y, Span<float> slopes) where TLoss : struct, IMarginLoss
    {
        if (typeof(TLoss) == typeof(LogisticLoss))
        {
            // One exp per row serves both: t = e^−|z|, log(1 + e^z) = max(z, 0) + log(1 + t), σ(z) = 1/(1+t) or t/(1+t).
            double loss = 0;
            for (var i = 0; i < z.Length; i++)
            {
                var zi = z[i];
                var t = MathF.Exp(-MathF.Abs(zi));
                var inv = 1 / (1 + t);
                loss += MathF.Max(zi, 0) + MathF.Log(1 + t) - y[i] * zi;
                slopes[i] = (zi >= 0 ? inv : t * inv) - y[i];
            }
            return loss;
        }
        if (typeof(TLoss) == typeof(HingeLoss)) return HingeBlock(z, y, slopes, squared: false);
        if (typeof(TLoss) == typeof(SquaredHingeLoss)) return HingeBlock(z, y, slopes, squared: true);
        double sum = 0;
        for (var i = 0; i < z.Length; i++)
        {
            sum += TLoss.Loss(z[i], y[i]);
            slopes[i] = TLoss.Slope(z[i], y[i]);
        }
        return sum;
    }

    /// <summary>Hinge and squared hinge over a block without branches: s = 2y − 1, m = 1 − s·z; loss max(m, 0) or
    /// max(m, 0)², slope −s·[m &gt; 0] or −2s·max(m, 0).</summary>
    private static double HingeBlock(ReadOnlySpan<float> z, ReadOnlySpan<float> y, Span<float> slopes, bool squared)
    {
        var i = 0;
        var total = Vector256<float>.Zero;
        var one = Vector256<float>.One;
        var two = Vector256.Create(2f);
        for (; i + Vector256<float>.Count <= z.Length; i += Vector256<float>.Count)
        {
            var vs = two * Vector256.Create(y[i..]) - one;
            var m = one - vs * Vector256.Create(z[i..]);
            var positive = Vector256.Max(m, Vector256<float>.Zero);
            if (squared)
            {
                total += positive * positive;
                (-two * vs * positive).CopyTo(slopes[i..]);
            }
            else
            {
                total += positive;
                Vector256.ConditionalSelect(Vector256.GreaterThan(m, Vector256<float>.Zero), -vs, Vector256<float>.Zero).CopyTo(slopes[i..]);
            }
        }
        double sum = Vector256.Sum(total);
        for (; i < z.Length; i++)
        {
            var s = 2 * y[i] - 1;
            var m = MathF.Max(1 - s * z[i], 0);
            sum += squared ? m * m : m;
            slopes[i] = squared ? -2 * s * m : m > 0 ? -s : 0;
        }
        return sum;
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
