using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StepML.Core.Models.Neural;

/// <summary>
/// The k × k NHWC convolution without im2col ("implicit GEMM"). The input is copied once into a zero-padded buffer
/// X̃ (<see cref="Pad"/>); then output pixel i's receptive field is, for each kernel row ky, one contiguous run of
/// k·C floats starting at X̃[o_i + ky·rowStride], where o_i (<see cref="PixelOffsets"/>) is its top-left corner. So
/// Y[i, f] = Σ_ky Σ_q X̃[o_i + ky·rowStride + q]·W[ky·kC + q, f] (kC = k·C) is a GEMM whose A rows are read in place:
/// with C = 16 the im2col copy and the GEMM's packing of that copy cost as much as the FMAs, and here both are gone.
/// The same addressing gives the weight gradient ∂W[ky·kC + q, f] = Σ_i X̃[o_i + ky·rowStride + q]·∂Y[i, f]
/// (<see cref="WeightGradient"/>), and at stride 1 the input gradient is this forward pass over the padded ∂Y with
/// the kernel flipped and transposed (<see cref="FlipTranspose"/>). Register tiles of 6 pixels (or 6 rows of ∂W)
/// × 16 filters, 12 Vector256 accumulators, as <see cref="Sgemm"/>'s micro-kernel; the weights (and ∂Y) are laid
/// out in zero-padded strips of 16 columns first. Every sum runs in a fixed order, so results are deterministic.
/// </summary>
internal static class DirectConv
{
    public const int Mr = 6;
    public const int Nr = 16;
    /// <summary>Pixels per block of the weight-gradient sum: ∂Y's block (≤ 256 × 16 floats a strip) stays in L1.</summary>
    private const int Block = 256;

    public static int Strips(int columns) => (columns + Nr - 1) / Nr;

    /// <summary>Floats of the scratch <see cref="WeightGradient"/> packs ∂Y's pixel blocks into.</summary>
    public static int BlockSize(int filters) => Block * Strips(filters) * Nr;

    /// <summary>X̃[b, y + pad, x + pad, c] = X[b, y, x, c], zeros around.</summary>
    public static void Pad(ReadOnlySpan<float> x, int samples, int h, int w, int c, int pad, Span<float> padded)
    {
        var (hp, wp) = (h + 2 * pad, w + 2 * pad);
        for (var b = 0; b < samples; b++)
        {
            var image = padded.Slice(b * hp * wp * c, hp * wp * c);
            image[..(pad * wp * c)].Clear();
            for (var y = 0; y < h; y++)
            {
                var row = image.Slice((y + pad) * wp * c, wp * c);
                row[..(pad * c)].Clear();
                x.Slice((b * h + y) * w * c, w * c).CopyTo(row[(pad * c)..]);
                row[((pad + w) * c)..].Clear();
            }
            image[((pad + h) * wp * c)..].Clear();
        }
    }

    /// <summary>o_i = ((b·hp + s·y)·wp + s·x)·C for the output pixels i = (b, y, x) in order.</summary>
    public static void PixelOffsets(int samples, int hp, int wp, int c, int oh, int ow, int stride, Span<int> offsets)
    {
        var i = 0;
        for (var b = 0; b < samples; b++)
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                    offsets[i++] = ((b * hp + stride * y) * wp + stride * x) * c;
    }

    /// <summary>packed[s][r][j] = W[r, 16·s + j] (a <paramref name="rows"/> × <paramref name="columns"/> row-major
    /// matrix), zero past the last column.</summary>
    public static void PackStrips(ReadOnlySpan<float> w, int rows, int columns, Span<float> packed)
    {
        for (var s = 0; s < Strips(columns); s++)
        {
            var width = Math.Min(Nr, columns - s * Nr);
            for (var r = 0; r < rows; r++)
            {
                var dst = packed.Slice((s * rows + r) * Nr, Nr);
                w.Slice(r * columns + s * Nr, width).CopyTo(dst);
                dst[width..].Clear();
            }
        }
    }

    /// <summary>The stride-1 input gradient's kernel, packed: W′[(k−1−ky, k−1−kx, f), c] = W[(ky, kx, c), f], so that
    /// ∂X is the convolution of the (k/2-padded) ∂Y with W′ over F input channels to C outputs.</summary>
    public static void FlipTranspose(ReadOnlySpan<float> w, int k, int c, int f, Span<float> packed)
    {
        var rows = k * k * f;
        packed[..(Strips(c) * rows * Nr)].Clear();
        for (var ky = 0; ky < k; ky++)
            for (var kx = 0; kx < k; kx++)
                for (var ch = 0; ch < c; ch++)
                {
                    var source = w.Slice(((ky * k + kx) * c + ch) * f, f);
                    var row = ((k - 1 - ky) * k + (k - 1 - kx)) * f;
                    var at = (ch / Nr * rows + row) * Nr + ch % Nr;
                    for (var o = 0; o < f; o++) packed[at + o * Nr] = source[o];
                }
    }

    /// <summary>Y[i, f] = Σ_ky Σ_q X̃[o_i + ky·rowStride + q]·W[ky·kC + q, f] for the pixels of <paramref name="offsets"/>;
    /// W packed by <see cref="PackStrips"/> (k·kC rows); Y is pixels × <paramref name="filters"/>, overwritten.</summary>
    public static void Forward(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride,
        ReadOnlySpan<float> packedWeights, int filters, Span<float> output)
    {
        var pixels = offsets.Length;
        if (pixels == 0) return;
        CheckReach(padded, offsets, k, kc, rowStride);
        if (output.Length < pixels * filters) throw new ArgumentException($"output has {output.Length} floats, {pixels} pixels × {filters} filters need {pixels * filters}");
        var rows = k * kc;
        ref var x = ref MemoryMarshal.GetReference(padded);
        Span<nuint> tile = stackalloc nuint[Mr];
        for (var i0 = 0; i0 < pixels; i0 += Mr)
        {
            var mr = Math.Min(Mr, pixels - i0);
            // Rows past the last pixel repeat it (their results are not stored).
            for (var r = 0; r < Mr; r++) tile[r] = (nuint)offsets[i0 + Math.Min(r, mr - 1)];
            for (var s = 0; s < Strips(filters); s++)
            {
                var nr = Math.Min(Nr, filters - s * Nr);
                ref var w = ref MemoryMarshal.GetReference(packedWeights.Slice(s * rows * Nr, rows * Nr));
                ForwardTile(ref x, tile, k, kc, (nuint)rowStride, ref w, output, i0 * filters + s * Nr, filters, mr, nr);
            }
        }
    }

    /// <summary>∂W[ky·kC + q, f] += Σ_i X̃[o_i + ky·rowStride + q]·∂Y[i, f] over the pixels of <paramref name="offsets"/>,
    /// into <paramref name="accumulator"/>: strips of 16 columns × k·kCp rows (kCp = kC rounded up to 6), which the
    /// caller zeroes before the first call and reads back with <see cref="AddAccumulated"/>. <paramref name="block"/>
    /// is scratch for <see cref="Block"/> × 16·strips floats.</summary>
    public static void WeightGradient(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride,
        ReadOnlySpan<float> outputGradient, int filters, Span<float> accumulator, Span<float> block)
    {
        if (offsets.Length == 0) return;
        CheckReach(padded, offsets, k, kc, rowStride);
        var kcp = RoundRows(kc);
        var strips = Strips(filters);
        if (accumulator.Length < strips * k * kcp * Nr) throw new ArgumentException($"the accumulator has {accumulator.Length} floats, {strips * k * kcp * Nr} needed");
        ref var x = ref MemoryMarshal.GetReference(padded);
        Span<nuint> rows = stackalloc nuint[Mr];
        for (var i0 = 0; i0 < offsets.Length; i0 += Block)
        {
            var count = Math.Min(Block, offsets.Length - i0);
            PackStrips(outputGradient.Slice(i0 * filters, count * filters), count, filters, block);
            var pixelOffsets = offsets.Slice(i0, count);
            for (var s = 0; s < strips; s++)
            {
                ref var dy = ref MemoryMarshal.GetReference(block.Slice(s * count * Nr, count * Nr));
                for (var ky = 0; ky < k; ky++)
                    for (var q0 = 0; q0 < kc; q0 += Mr)
                    {
                        // Rows past kC repeat the last one (their sums land in the padding rows and are never read).
                        for (var r = 0; r < Mr; r++) rows[r] = (nuint)(ky * rowStride + Math.Min(q0 + r, kc - 1));
                        var at = (s * k * kcp + ky * kcp + q0) * Nr;
                        WeightTile(ref x, pixelOffsets, rows, ref dy, ref accumulator[at]);
                    }
            }
        }
    }

    public static int RoundRows(int kc) => (kc + Mr - 1) / Mr * Mr;

    /// <summary>∂W[ky·kC + q, f] += accumulator (the layout of <see cref="WeightGradient"/>).</summary>
    public static void AddAccumulated(ReadOnlySpan<float> accumulator, int k, int kc, int filters, Span<float> weightGradient)
    {
        var kcp = RoundRows(kc);
        for (var s = 0; s < Strips(filters); s++)
        {
            var width = Math.Min(Nr, filters - s * Nr);
            for (var ky = 0; ky < k; ky++)
                for (var q = 0; q < kc; q++)
                {
                    var source = accumulator.Slice((s * k * kcp + ky * kcp + q) * Nr, width);
                    var target = weightGradient.Slice((ky * kc + q) * filters + s * Nr, width);
                    for (var j = 0; j < width; j++) target[j] += source[j];
                }
        }
    }

    // The kernels read X̃ through unchecked references: every pixel's window must lie inside the buffer.
    private static void CheckReach(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride)
    {
        var last = 0;
        foreach (var o in offsets) last = Math.Max(last, o);
        if (offsets.IndexOfAnyExceptInRange(0, int.MaxValue) >= 0 || (long)last + (long)(k - 1) * rowStride + kc > padded.Length)
            throw new ArgumentException($"a pixel's {k}-row window (rows of {kc} floats, {rowStride} apart) reaches past the {padded.Length} floats of the padded input");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile(ref float x, ReadOnlySpan<nuint> tile, int k, int kc, nuint rowStride, ref float w,
        Span<float> output, int at, int ldy, int mr, int nr)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nuint wo = 0;
        for (var ky = 0; ky < k; ky++)
        {
            var shift = (nuint)ky * rowStride;
            ref var x0 = ref Unsafe.Add(ref x, tile[0] + shift);
            ref var x1 = ref Unsafe.Add(ref x, tile[1] + shift);
            ref var x2 = ref Unsafe.Add(ref x, tile[2] + shift);
            ref var x3 = ref Unsafe.Add(ref x, tile[3] + shift);
            ref var x4 = ref Unsafe.Add(ref x, tile[4] + shift);
            ref var x5 = ref Unsafe.Add(ref x, tile[5] + shift);
            for (nuint q = 0; q < (nuint)kc; q++, wo += Nr)
            {
                var b0 = Vector256.LoadUnsafe(ref w, wo);
                var b1 = Vector256.LoadUnsafe(ref w, wo + 8);
                var a = Vector256.Create(Unsafe.Add(ref x0, q));
                c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
                a = Vector256.Create(Unsafe.Add(ref x1, q));
                c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
                a = Vector256.Create(Unsafe.Add(ref x2, q));
                c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
                a = Vector256.Create(Unsafe.Add(ref x3, q));
                c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
                a = Vector256.Create(Unsafe.Add(ref x4, q));
                c40 = Vector256.FusedMultiplyAdd(a, b0, c40); c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
                a = Vector256.Create(Unsafe.Add(ref x5, q));
                c50 = Vector256.FusedMultiplyAdd(a, b0, c50); c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
            }
        }

        if (mr == Mr && nr == Nr)
        {
            ref var y = ref MemoryMarshal.GetReference(output);
            var o = (nuint)at;
            var s = (nuint)ldy;
            c00.StoreUnsafe(ref y, o); c01.StoreUnsafe(ref y, o + 8);
            c10.StoreUnsafe(ref y, o + s); c11.StoreUnsafe(ref y, o + s + 8);
            c20.StoreUnsafe(ref y, o + 2 * s); c21.StoreUnsafe(ref y, o + 2 * s + 8);
            c30.StoreUnsafe(ref y, o + 3 * s); c31.StoreUnsafe(ref y, o + 3 * s + 8);
            c40.StoreUnsafe(ref y, o + 4 * s); c41.StoreUnsafe(ref y, o + 4 * s + 8);
            c50.StoreUnsafe(ref y, o + 5 * s); c51.StoreUnsafe(ref y, o + 5 * s + 8);
            return;
        }

        Span<float> part = stackalloc float[Mr * Nr];
        ref var t = ref MemoryMarshal.GetReference(part);
        c00.StoreUnsafe(ref t, 0); c01.StoreUnsafe(ref t, 8);
        c10.StoreUnsafe(ref t, 16); c11.StoreUnsafe(ref t, 24);
        c20.StoreUnsafe(ref t, 32); c21.StoreUnsafe(ref t, 40);
        c30.StoreUnsafe(ref t, 48); c31.StoreUnsafe(ref t, 56);
        c40.StoreUnsafe(ref t, 64); c41.StoreUnsafe(ref t, 72);
        c50.StoreUnsafe(ref t, 80); c51.StoreUnsafe(ref t, 88);
        for (var r = 0; r < mr; r++) part.Slice(r * Nr, nr).CopyTo(output.Slice(at + r * ldy, nr));
    }

    // acc[r][j] += Σ_i X̃[o_i + rows[r]]·∂Y[i][j] over the block's pixels; acc is a 6 × 16 tile.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile(ref float x, ReadOnlySpan<int> offsets, ReadOnlySpan<nuint> rows, ref float dy, ref float acc)
    {
        var c00 = Vector256.LoadUnsafe(ref acc, 0); var c01 = Vector256.LoadUnsafe(ref acc, 8);
        var c10 = Vector256.LoadUnsafe(ref acc, 16); var c11 = Vector256.LoadUnsafe(ref acc, 24);
        var c20 = Vector256.LoadUnsafe(ref acc, 32); var c21 = Vector256.LoadUnsafe(ref acc, 40);
        var c30 = Vector256.LoadUnsafe(ref acc, 48); var c31 = Vector256.LoadUnsafe(ref acc, 56);
        var c40 = Vector256.LoadUnsafe(ref acc, 64); var c41 = Vector256.LoadUnsafe(ref acc, 72);
        var c50 = Vector256.LoadUnsafe(ref acc, 80); var c51 = Vector256.LoadUnsafe(ref acc, 88);
        ref var x0 = ref Unsafe.Add(ref x, rows[0]);
        ref var x1 = ref Unsafe.Add(ref x, rows[1]);
        ref var x2 = ref Unsafe.Add(ref x, rows[2]);
        ref var x3 = ref Unsafe.Add(ref x, rows[3]);
        ref var x4 = ref Unsafe.Add(ref x, rows[4]);
        ref var x5 = ref Unsafe.Add(ref x, rows[5]);
        nuint go = 0;
        foreach (var offset in offsets)
        {
            var o = (nuint)offset;
            var b0 = Vector256.LoadUnsafe(ref dy, go);
            var b1 = Vector256.LoadUnsafe(ref dy, go + 8);
            go += Nr;
            var a = Vector256.Create(Unsafe.Add(ref x0, o));
            c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            a = Vector256.Create(Unsafe.Add(ref x1, o));
            c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            a = Vector256.Create(Unsafe.Add(ref x2, o));
            c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            a = Vector256.Create(Unsafe.Add(ref x3, o));
            c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            a = Vector256.Create(Unsafe.Add(ref x4, o));
            c40 = Vector256.FusedMultiplyAdd(a, b0, c40); c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
            a = Vector256.Create(Unsafe.Add(ref x5, o));
            c50 = Vector256.FusedMultiplyAdd(a, b0, c50); c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
        }
        c00.StoreUnsafe(ref acc, 0); c01.StoreUnsafe(ref acc, 8);
        c10.StoreUnsafe(ref acc, 16); c11.StoreUnsafe(ref acc, 24);
        c20.StoreUnsafe(ref acc, 32); c21.StoreUnsafe(ref acc, 40);
        c30.StoreUnsafe(ref acc, 48); c31.StoreUnsafe(ref acc, 56);
        c40.StoreUnsafe(ref acc, 64); c41.StoreUnsafe(ref acc, 72);
        c50.StoreUnsafe(ref acc, 80); c51.StoreUnsafe(ref acc, 88);
    }
}
