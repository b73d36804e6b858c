using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>
/// Binary logistic regression with labels y ∈ {0, 1}, on dense partitions (the kernel below) and CSR partitions
/// (<see cref="LinearKernels"/>, non-zeros only): parameters are d weights then the bias b,
/// z = w·x + b, loss = log(1 + e^z) − y·z (computed as max(z,0) + log(1 + e^−|z|) − y·z, which never overflows),
/// ∂loss/∂z = σ(z) − y, with σ(z) = 1/(1 + e^−|z|) for z ≥ 0 and e^−|z|/(1 + e^−|z|) otherwise (one exponential
/// per row serves the loss and the slope).
/// </summary>
/// <remarks>
/// The kernel walks the rows in blocks of <see cref="Block"/>: (1) the margins z of the block, streaming each row from
/// memory once; (2) loss and slope of the whole block with SIMD exp/log polynomials in float, summed in float within
/// the block and in double across blocks; (3) Σ g_i·x_i over
/// the block, re-reading rows that are still in L1/L2, into register accumulators flushed to a double sum per block.
/// Features are taken in chunks of four SIMD vectors (32 floats with AVX2), so a Higgs-sized row (28 features) is one
/// chunk whose weights and gradient accumulators stay in registers. `stepml bench` measures it against the
/// machine's memory bandwidth.
/// </remarks>
public sealed class LogisticRegression(int features) : IDifferentiableModel
{
    private const int Block = 256;
    // Properties over Vector<float>.Count, which the JIT folds to a constant even in methods compiled before this
    // type's static constructor ran (AggressiveOptimization), unlike static readonly fields.
    private static int s_width => Vector<float>.Count;
    private static int s_chunk => 4 * Vector<float>.Count;

    public string Type => Jobs.ModelTypes.Logistic;
    public int Features { get; } = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features));
    public int ParameterCount => checked(Features + 1);

    public void Initialize(Span<float> parameters, ulong seed) => parameters.Clear();

    public void RegularizationMask(Span<float> mask)
    {
        mask[..Features].Fill(1f);
        mask[Features] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
    {
        CheckShapes(parameters, data);
        // CSR partitions take the shared sparse kernel, which touches only the non-zeros.
        if (data.IsSparse) return LinearKernels.LossAndGradient<LogisticLoss>(parameters, data, rows, gradient);
        if (gradient.Length != ParameterCount) throw new ArgumentException($"gradient has {gradient.Length} values, the model {ParameterCount}");
        gradient.Clear();
        if (rows.Count == 0) return 0;
        var d = Features;
        var bias = parameters[d];
        var padded = (d + s_chunk - 1) / s_chunk * s_chunk;
        var weights = padded <= 1024 ? stackalloc float[padded] : new float[padded];
        var masks = padded <= 1024 ? stackalloc float[padded] : new float[padded];
        PrepareChunks(parameters[..d], weights, masks);
        var x = data.Dense!;
        var labels = data.Labels;
        Span<int> offsets = stackalloc int[Block];
        Span<float> z = stackalloc float[Block];
        Span<float> y = stackalloc float[Block];
        Span<float> scratch = stackalloc float[2 * s_chunk];
        var sum = d <= 1024 ? stackalloc double[d] : new double[d];
        sum.Clear();
        double loss = 0, gb = 0;
        for (var start = 0; start < rows.Count; start += Block)
        {
            var n = Math.Min(Block, rows.Count - start);
            var largest = Gather(rows, start, d, labels, offsets[..n], y[..n]);
            Margins(x, d, offsets[..n], largest, weights, masks, bias, z[..n]);
            var (blockLoss, blockSlope) = LossAndSlopes(z[..n], y[..n]);
            loss += blockLoss;
            gb += blockSlope;
            AccumulateGradient(x, d, offsets[..n], largest, z[..n], sum, scratch);
        }
        var inv = 1.0 / rows.Count;
        for (var j = 0; j < d; j++) gradient[j] = (float)(sum[j] * inv);
        gradient[d] = (float)(gb * inv);
        return loss * inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckShapes(parameters, data);
        if (data.IsSparse) return LinearKernels.Evaluate<LogisticLoss>(parameters, data);
        var d = Features;
        var bias = parameters[d];
        var padded = (d + s_chunk - 1) / s_chunk * s_chunk;
        var weights = padded <= 1024 ? stackalloc float[padded] : new float[padded];
        var masks = padded <= 1024 ? stackalloc float[padded] : new float[padded];
        PrepareChunks(parameters[..d], weights, masks);
        var x = data.Dense!;
        var labels = data.Labels;
        Span<int> offsets = stackalloc int[Block];
        Span<float> z = stackalloc float[Block];
        Span<float> y = stackalloc float[Block];
        var all = RowSelection.All(data);
        double loss = 0, correct = 0;
        for (var start = 0; start < data.Rows; start += Block)
        {
            var n = Math.Min(Block, data.Rows - start);
            var largest = Gather(all, start, d, labels, offsets[..n], y[..n]);
            Margins(x, d, offsets[..n], largest, weights, masks, bias, z[..n]);
            for (var i = 0; i < n; i++)
                if ((z[i] > 0 ? 1f : 0f) == y[i]) correct++;
            loss += LossAndSlopes(z[..n], y[..n]).Loss;
        }
        return new Evaluation(loss, correct, data.Rows);
    }

    /// <returns>The largest element offset of the block (to tell whether every row may be read in whole chunks).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Gather(RowSelection rows, int start, int d, float[] labels, Span<int> offsets, Span<float> y)
    {
        if (rows.Order is null)
        {
            var first = rows.Start + start;
            var i = 0;
            if (offsets.Length >= Vector<int>.Count)
            {
                // offsets[i] = (first + i)·d, a vector of consecutive offsets advanced by Count·d per step.
                var step = new Vector<int>(Vector<int>.Count * d);
                var current = (Vector<int>.Indices + new Vector<int>(first)) * new Vector<int>(d);
                for (; i + Vector<int>.Count <= offsets.Length; i += Vector<int>.Count)
                {
                    current.CopyTo(offsets[i..]);
                    current += step;
                }
            }
            for (; i < offsets.Length; i++) offsets[i] = (first + i) * d;
            labels.AsSpan(first, offsets.Length).CopyTo(y);
            return offsets[^1];
        }
        var largest = 0;
        for (var i = 0; i < offsets.Length; i++)
        {
            var r = rows.Order[rows.Start + start + i];
            offsets[i] = r * d;
            y[i] = labels[r];
            largest = Math.Max(largest, offsets[i]);
        }
        return largest;
    }

    /// <summary>z_i = w·x_i + b for the block's rows (element offsets into <paramref name="x"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Margins(float[] x, int d, ReadOnlySpan<int> offsets, int largest, ReadOnlySpan<float> weights, ReadOnlySpan<float> masks, float bias, Span<float> z)
    {
        z.Fill(bias);
        ref var x0 = ref MemoryMarshal.GetArrayDataReference(x);
        for (var c = 0; c < d; c += s_chunk)
        {
            var length = Math.Min(s_chunk, d - c);
            var w0 = new Vector<float>(weights[c..]);
            var w1 = new Vector<float>(weights[(c + s_width)..]);
            var w2 = new Vector<float>(weights[(c + 2 * s_width)..]);
            var w3 = new Vector<float>(weights[(c + 3 * s_width)..]);
            var m0 = new Vector<float>(masks[c..]);
            var m1 = new Vector<float>(masks[(c + s_width)..]);
            var m2 = new Vector<float>(masks[(c + 2 * s_width)..]);
            var m3 = new Vector<float>(masks[(c + 3 * s_width)..]);
            var lastSafe = x.Length - s_chunk;
            var i = 0;
            if (Avx.IsSupported && s_width == 8 && length > 3 * s_width && largest + c <= lastSafe)
                i = Margins8(ref x0, c, offsets, z, w0.AsVector256(), w1.AsVector256(), w2.AsVector256(), w3.AsVector256(), m3.AsVector256());
            for (; i < offsets.Length; i++)
            {
                var o = offsets[i] + c;
                if (o <= lastSafe)
                {
                    ref var row = ref Unsafe.Add(ref x0, o);
                    var acc = (Vector.LoadUnsafe(ref row) & m0) * w0;
                    acc = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)s_width) & m1, w1, acc);
                    acc = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(2 * s_width)) & m2, w2, acc);
                    acc = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(3 * s_width)) & m3, w3, acc);
                    z[i] += Vector.Sum(acc);
                }
                else
                {
                    // The last row or so, whose padded chunk would run past the array: a scalar loop (no call in
                    // this loop, so the weight vectors stay in registers).
                    var partial = 0f;
                    for (var j = 0; j < length; j++) partial += weights[c + j] * x[o + j];
                    z[i] += partial;
                }
            }
        }
    }

    /// <summary>AVX: margins of eight rows at a time, their horizontal sums done together (three rounds of hadd and one
    /// cross-lane add give the eight sums in one vector) instead of one full reduction per row.</summary>
    /// <returns>How many leading rows it handled (a multiple of 8); the caller finishes the rest. Only for chunks of
    /// more than three vectors: the first three are whole, and only the fourth needs its mask.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Margins8(ref float x0, int c, ReadOnlySpan<int> offsets, Span<float> z,
        Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> m3)
    {
        ref var z0 = ref MemoryMarshal.GetReference(z);
        var i = 0;
        for (; i + 8 <= offsets.Length; i += 8)
        {
            var s0 = Dot(ref Unsafe.Add(ref x0, offsets[i] + c), w0, w1, w2, w3, m3);
            var s1 = Dot(ref Unsafe.Add(ref x0, offsets[i + 1] + c), w0, w1, w2, w3, m3);
            var s2 = Dot(ref Unsafe.Add(ref x0, offsets[i + 2] + c), w0, w1, w2, w3, m3);
            var s3 = Dot(ref Unsafe.Add(ref x0, offsets[i + 3] + c), w0, w1, w2, w3, m3);
            var s4 = Dot(ref Unsafe.Add(ref x0, offsets[i + 4] + c), w0, w1, w2, w3, m3);
            var s5 = Dot(ref Unsafe.Add(ref x0, offsets[i + 5] + c), w0, w1, w2, w3, m3);
            var s6 = Dot(ref Unsafe.Add(ref x0, offsets[i + 6] + c), w0, w1, w2, w3, m3);
            var s7 = Dot(ref Unsafe.Add(ref x0, offsets[i + 7] + c), w0, w1, w2, w3, m3);
            var q0 = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));
            var q1 = Avx.HorizontalAdd(Avx.HorizontalAdd(s4, s5), Avx.HorizontalAdd(s6, s7));
            var sums = Avx.Permute2x128(q0, q1, 0x20) + Avx.Permute2x128(q0, q1, 0x31);
            (Vector256.LoadUnsafe(ref z0, (nuint)i) + sums).StoreUnsafe(ref z0, (nuint)i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot(ref float row, Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> m3)
    {
        var acc = Vector256.LoadUnsafe(ref row) * w0;
        acc = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, 8), w1, acc);
        acc = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, 16), w2, acc);
        return Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, 24) & m3, w3, acc);
    }

    /// <summary>Replaces z with the slopes g = σ(z) − y and returns Σ loss and Σ g over the block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Loss, double Slope) LossAndSlopes(Span<float> z, ReadOnlySpan<float> y)
    {
        // Float lanes over one block (at most Block / width terms each), widened to double once per block.
        var lossSum = Vector<float>.Zero;
        var slopeSum = Vector<float>.Zero;
        ref var z0 = ref MemoryMarshal.GetReference(z);
        ref var y0 = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i + s_width <= z.Length; i += s_width)
        {
            var zi = Vector.LoadUnsafe(ref z0, (nuint)i);
            var yi = Vector.LoadUnsafe(ref y0, (nuint)i);
            var t = ExpNonPositive(-Vector.Abs(zi));
            var onePlusT = Vector<float>.One + t;
            // max(z, 0) as (z + |z|)/2, exact, without the NaN handling of Vector.Max.
            var loss = (zi + Vector.Abs(zi)) * new Vector<float>(0.5f) + LogOneToTwo(onePlusT) - yi * zi;
            var sigma = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(zi, Vector<float>.Zero), Vector<float>.One, t) / onePlusT;
            var slope = sigma - yi;
            slope.StoreUnsafe(ref z0, (nuint)i);
            lossSum += loss;
            slopeSum += slope;
        }
        Vector.Widen(lossSum, out var lossLow, out var lossHigh);
        Vector.Widen(slopeSum, out var slopeLow, out var slopeHigh);
        double lossTotal = Vector.Sum(lossLow + lossHigh), slopeTotal = Vector.Sum(slopeLow + slopeHigh);
        for (; i < z.Length; i++)
        {
            var zi = z[i];
            var t = MathF.Exp(-MathF.Abs(zi));
            lossTotal += MathF.Max(zi, 0) + MathF.Log(1 + t) - y[i] * zi;
            var slope = (zi >= 0 ? 1f : t) / (1 + t) - y[i];
            z[i] = slope;
            slopeTotal += slope;
        }
        return (lossTotal, slopeTotal);
    }

    /// <summary>e^x for x ≤ 0 in float (Cephes expf: x = k·ln2 + r with ln2 split in two, |r| ≤ ln2/2, a degree-5
    /// polynomial for e^r, 2^k built in the exponent bits); relative error below 1e-7 on [−80, 0]. Arguments below −87
    /// give e^−87 ≈ 1.6e−38 instead of a subnormal. The library's Vector.Exp is several times slower here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> ExpNonPositive(Vector<float> x)
    {
        x = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(-87f)), new Vector<float>(-87f), x);
        var k = Vector.Floor(Vector.MultiplyAddEstimate(x, new Vector<float>(1.44269504088896341f), new Vector<float>(0.5f)));
        var r = x - k * new Vector<float>(0.693359375f) - k * new Vector<float>(-2.12194440e-4f);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1.3981999507e-3f));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.MultiplyAddEstimate(p, r, new Vector<float>(5.0000001201e-1f));
        var er = Vector.MultiplyAddEstimate(p, r * r, r + Vector<float>.One);
        var twoToK = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(k) + new Vector<int>(127), 23));
        return er * twoToK;
    }

    /// <summary>ln u for u in [1, 2] in float (Cephes logf: u = m·2^e with m in [√½, √2), a degree-8 polynomial in
    /// m − 1, ln2 split in two); absolute error below 5e-8 on [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LogOneToTwo(Vector<float> u)
    {
        var bits = Vector.AsVectorInt32(u);
        var e = Vector.ConvertToSingle(Vector.ShiftRightArithmetic(bits, 23) - new Vector<int>(126));
        var m = Vector.AsVectorSingle((bits & new Vector<int>(0x007FFFFF)) | new Vector<int>(0x3F000000));
        var small = Vector.LessThan(m, new Vector<float>(0.707106781186547524f));
        e = Vector.ConditionalSelect(small, e - Vector<float>.One, e);
        var x = Vector.ConditionalSelect(small, m + m, m) - Vector<float>.One;
        var z = x * x;
        var y = new Vector<float>(7.0376836292e-2f);
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(-1.1514610310e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(1.1676998740e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(-1.2420140846e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(1.4249322787e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(-1.6668057665e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(2.0000714765e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(-2.4999993993e-1f));
        y = Vector.MultiplyAddEstimate(y, x, new Vector<float>(3.3333331174e-1f));
        y = y * x * z + e * new Vector<float>(-2.12194440e-4f) - z * new Vector<float>(0.5f);
        return x + y + e * new Vector<float>(0.693359375f);
    }

    /// <summary>sum += Σ_i g_i·x_i over the block, two rows at a time into independent register accumulators (the
    /// FMA latency, not the loads, would otherwise bound the loop). No call may sit inside the loops: every vector
    /// register is caller-saved, so one call would make the JIT keep the accumulators on the stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateGradient(float[] x, int d, ReadOnlySpan<int> offsets, int largest, ReadOnlySpan<float> g, Span<double> sum, Span<float> scratch)
    {
        ref var x0 = ref MemoryMarshal.GetArrayDataReference(x);
        ref var s0 = ref MemoryMarshal.GetReference(scratch);
        var n = offsets.Length;
        var lastSafe = x.Length - s_chunk;
        for (var c = 0; c < d; c += s_chunk)
        {
            var length = Math.Min(s_chunk, d - c);
            // Rows whose padded chunk would run past the array (the last row or so) are added here, scalar.
            var tail = scratch.Slice(s_chunk, length);
            tail.Clear();
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var i = 0;
            // When every row of the block may be read in whole chunks (all but the array's last block), the pair loop
            // runs without per-row checks.
            var pairs = largest + c <= lastSafe ? n & ~1 : 0;
            for (; i < pairs; i += 2)
            {
                var o = offsets[i] + c;
                var p = offsets[i + 1] + c;
                ref var row = ref Unsafe.Add(ref x0, o);
                var gi = new Vector<float>(g[i]);
                a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row), gi, a0);
                a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)s_width), gi, a1);
                a2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(2 * s_width)), gi, a2);
                a3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(3 * s_width)), gi, a3);
                ref var next = ref Unsafe.Add(ref x0, p);
                var gj = new Vector<float>(g[i + 1]);
                b0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref next), gj, b0);
                b1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref next, (nuint)s_width), gj, b1);
                b2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref next, (nuint)(2 * s_width)), gj, b2);
                b3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref next, (nuint)(3 * s_width)), gj, b3);
            }
            for (; i < n; i++)
            {
                var o = offsets[i] + c;
                if (o <= lastSafe)
                {
                    ref var row = ref Unsafe.Add(ref x0, o);
                    var gi = new Vector<float>(g[i]);
                    a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row), gi, a0);
                    a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)s_width), gi, a1);
                    a2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(2 * s_width)), gi, a2);
                    a3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref row, (nuint)(3 * s_width)), gi, a3);
                }
                else
                {
                    for (var j = 0; j < length; j++) tail[j] += g[i] * x[o + j];
                }
            }
            // Lanes past the chunk hold products with the next row's values: only the first `length` are kept.
            (a0 + b0).StoreUnsafe(ref s0);
            (a1 + b1).StoreUnsafe(ref s0, (nuint)s_width);
            (a2 + b2).StoreUnsafe(ref s0, (nuint)(2 * s_width));
            (a3 + b3).StoreUnsafe(ref s0, (nuint)(3 * s_width));
            for (var j = 0; j < length; j++) sum[c + j] += scratch[j] + tail[j];
        }
    }

    /// <summary>The weights zero-padded to whole chunks, and lane masks that are all-ones bits for the d real features
    /// and zero past them: the lanes of x past the row belong to the next row, and a non-finite value there must not
    /// leak into this row's margin as 0·∞.</summary>
    private static void PrepareChunks(ReadOnlySpan<float> w, Span<float> weights, Span<float> masks)
    {
        weights.Clear();
        w.CopyTo(weights);
        var ones = BitConverter.Int32BitsToSingle(-1);
        for (var j = 0; j < masks.Length; j++) masks[j] = j < w.Length ? ones : 0f;
    }

    private void CheckShapes(ReadOnlySpan<float> parameters, Partition data)
    {
        if (parameters.Length != ParameterCount)
            throw new ArgumentException($"logistic regression over {Features} features has {ParameterCount} parameters, got {parameters.Length}");
        if (data.Features != Features)
            throw new ArgumentException($"partition has {data.Features} features, the model {Features}");
    }
}
