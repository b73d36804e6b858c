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
/// the kernel flipped and transposed (<see cref="FlipTranspose"/>). The register tiles (<see cref="DirectConvKernels"/>)
/// span 16 filters; the weights (and ∂Y) are laid out in zero-padded strips of 16 columns first. Every sum runs in a
/// fixed order, so results are deterministic.
/// </summary>
internal static class DirectConv
{
    public const int Nr = 16;
    /// <summary>Floats a padded buffer needs past its last image: a ∂W tile reads up to 11 floats past a pixel's kC.</summary>
    public const int Slack = 16;
    /// <summary>Rows of ∂W per register tile: a multiple of both kernels' tiles.</summary>
    private const int RowRounding = 12;

    /// <summary>512-bit tiles where the CPU has them (AVX-512: twice the FMA width and 32 registers), else 256-bit.</summary>
    public static readonly bool Wide = Vector512.IsHardwareAccelerated;
    /// <summary>Pixels per block of the weight-gradient sum: ∂Y's block (≤ 256 × 16 floats a strip) stays in L1.</summary>
    private const int Block = 256;

    public static int Strips(int columns) => (columns + Nr - 1) / Nr;

    /// <summary>Floats of the scratch <see cref="WeightGradient"/> packs ∂Y's pixel blocks into.</summary>
    public static int BlockSize(int filters) => Block * Strips(filters) * Nr;

    /// <summary>X̃[b, y + pad, x + pad, c] = X[b, y, x, c], zeros around, and zeros in whatever
    /// <paramref name="padded"/> has past the images (the <see cref="Slack"/>).</summary>
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
        padded[(samples * hp * wp * c)..].Clear();
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
    /// W packed by <see cref="PackStrips"/> (k·kC rows); Y is pixels × <paramref name="filters"/>, overwritten.
    /// <paramref name="wide"/>: 8-pixel Vector512 tiles rather than 6-pixel Vector256 ones (<see cref="Wide"/>; tests
    /// run both).</summary>
    public static void Forward(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride,
        ReadOnlySpan<float> packedWeights, int filters, Span<float> output, bool wide)
    {
        var pixels = offsets.Length;
        if (pixels == 0) return;
        CheckReach(padded, offsets, k, kc, rowStride, kc);
        if (output.Length < pixels * filters) throw new ArgumentException($"output has {output.Length} floats, {pixels} pixels × {filters} filters need {pixels * filters}");
        var rows = k * kc;
        ref var x = ref MemoryMarshal.GetReference(padded);
        var mr = wide ? 8 : 6;
        Span<nuint> tile = stackalloc nuint[mr];
        for (var i0 = 0; i0 < pixels; i0 += mr)
        {
            var valid = Math.Min(mr, pixels - i0);
            // Rows past the last pixel repeat it (their results are not stored).
            for (var r = 0; r < mr; r++) tile[r] = (nuint)offsets[i0 + Math.Min(r, valid - 1)];
            for (var s = 0; s < Strips(filters); s++)
            {
                var nr = Math.Min(Nr, filters - s * Nr);
                ref var w = ref MemoryMarshal.GetReference(packedWeights.Slice(s * rows * Nr, rows * Nr));
                var at = i0 * filters + s * Nr;
                if (wide) DirectConvKernels.Forward8x16(ref x, tile, k, kc, (nuint)rowStride, ref w, output, at, filters, valid, nr);
                else DirectConvKernels.Forward6x16(ref x, tile, k, kc, (nuint)rowStride, ref w, output, at, filters, valid, nr);
            }
        }
    }

    /// <summary>∂W[ky·kC + q, f] += Σ_i X̃[o_i + ky·rowStride + q]·∂Y[i, f] over the pixels of <paramref name="offsets"/>,
    /// into <paramref name="accumulator"/>: strips of 16 columns × k·kCp rows (kCp = kC rounded up to 12), which the
    /// caller zeroes before the first call and reads back with <see cref="AddAccumulated"/>. <paramref name="block"/>
    /// is scratch for <see cref="BlockSize"/> floats. A tile of ∂W rows reads X̃ up to kCp past each pixel's row
    /// start, so <paramref name="padded"/> needs the <see cref="Slack"/>; what it reads past kC lands in padding rows.
    /// <paramref name="wide"/>: 12-row Vector512 tiles rather than 6-row Vector256 ones.</summary>
    public static void WeightGradient(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride,
        ReadOnlySpan<float> outputGradient, int filters, Span<float> accumulator, Span<float> block, bool wide)
    {
        if (offsets.Length == 0) return;
        var kcp = RoundRows(kc);
        CheckReach(padded, offsets, k, kc, rowStride, kcp);
        var strips = Strips(filters);
        if (accumulator.Length < strips * k * kcp * Nr) throw new ArgumentException($"the accumulator has {accumulator.Length} floats, {strips * k * kcp * Nr} needed");
        ref var x = ref MemoryMarshal.GetReference(padded);
        var mr = wide ? 12 : 6;
        for (var i0 = 0; i0 < offsets.Length; i0 += Block)
        {
            var count = Math.Min(Block, offsets.Length - i0);
            PackStrips(outputGradient.Slice(i0 * filters, count * filters), count, filters, block);
            var pixelOffsets = offsets.Slice(i0, count);
            for (var s = 0; s < strips; s++)
            {
                ref var dy = ref MemoryMarshal.GetReference(block.Slice(s * count * Nr, count * Nr));
                for (var ky = 0; ky < k; ky++)
                    for (var q0 = 0; q0 < kc; q0 += mr)
                    {
                        ref var rows = ref Unsafe.Add(ref x, ky * rowStride + q0);
                        ref var acc = ref accumulator[(s * k * kcp + ky * kcp + q0) * Nr];
                        if (wide) DirectConvKernels.Weight12x16(ref rows, pixelOffsets, ref dy, ref acc);
                        else DirectConvKernels.Weight6x16(ref rows, pixelOffsets, ref dy, ref acc);
                    }
            }
        }
    }

    public static int RoundRows(int kc) => (kc + RowRounding - 1) / RowRounding * RowRounding;

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
    private static void CheckReach(ReadOnlySpan<float> padded, ReadOnlySpan<int> offsets, int k, int kc, int rowStride, int reach)
    {
        var last = 0;
        foreach (var o in offsets) last = Math.Max(last, o);
        if (offsets.IndexOfAnyExceptInRange(0, int.MaxValue) >= 0 || (long)last + (long)(k - 1) * rowStride + reach > padded.Length)
            throw new ArgumentException($"a pixel's {k}-row window (rows of {kc} floats read to {reach}, {rowStride} apart) reaches past the {padded.Length} floats of the padded input");
    }
}
