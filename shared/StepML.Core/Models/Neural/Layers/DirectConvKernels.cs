using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StepML.Core.Models.Neural;

/// <summary>
/// <see cref="DirectConv"/>'s register tiles, each 16 filters wide and written out accumulator by accumulator so the
/// JIT keeps them in registers. Forward: a tile of pixels, one broadcast of X̃ per pixel and one FMA per accumulator
/// for each weight row. Weight gradient: a tile of consecutive ∂W rows (so one base reference and constant offsets),
/// one broadcast of X̃ per row for each pixel's ∂Y. Vector256: 6 × 16 (12 accumulators, fits AVX2's 16 registers);
/// Vector512: 8 × 16 forward (8 accumulators, enough FMAs in flight for two FMA ports, and only 8 pixel references)
/// and 12 × 16 for ∂W.
/// </summary>
internal static class DirectConvKernels
{
    private const int Nr = DirectConv.Nr;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward6x16(ref float x, ReadOnlySpan<nuint> tile, int k, int kc, nuint rowStride, ref float w,
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
        // Full tiles go straight to Y; a tail tile through a buffer, storing only its valid rows and columns.
        var full = mr == 6 && nr == Nr;
        Span<float> part = full ? [] : stackalloc float[6 * Nr];
        ref var t = ref full ? ref Unsafe.Add(ref MemoryMarshal.GetReference(output), at) : ref MemoryMarshal.GetReference(part);
        var s = full ? (nuint)ldy : Nr;
        c00.StoreUnsafe(ref t, 0); c01.StoreUnsafe(ref t, 8);
        c10.StoreUnsafe(ref t, s); c11.StoreUnsafe(ref t, s + 8);
        c20.StoreUnsafe(ref t, 2 * s); c21.StoreUnsafe(ref t, 2 * s + 8);
        c30.StoreUnsafe(ref t, 3 * s); c31.StoreUnsafe(ref t, 3 * s + 8);
        c40.StoreUnsafe(ref t, 4 * s); c41.StoreUnsafe(ref t, 4 * s + 8);
        c50.StoreUnsafe(ref t, 5 * s); c51.StoreUnsafe(ref t, 5 * s + 8);
        if (!full) StoreRows(part, output, at, ldy, mr, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward8x16(ref float x, ReadOnlySpan<nuint> tile, int k, int kc, nuint rowStride, ref float w,
        Span<float> output, int at, int ldy, int mr, int nr)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
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
            ref var x6 = ref Unsafe.Add(ref x, tile[6] + shift);
            ref var x7 = ref Unsafe.Add(ref x, tile[7] + shift);
            for (nuint q = 0; q < (nuint)kc; q++, wo += Nr)
            {
                var b = Vector512.LoadUnsafe(ref w, wo);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, q)), b, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, q)), b, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x2, q)), b, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x3, q)), b, c3);
                c4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x4, q)), b, c4);
                c5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x5, q)), b, c5);
                c6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x6, q)), b, c6);
                c7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x7, q)), b, c7);
            }
        }
        var full = mr == 8 && nr == Nr;
        Span<float> part = full ? [] : stackalloc float[8 * Nr];
        ref var t = ref full ? ref Unsafe.Add(ref MemoryMarshal.GetReference(output), at) : ref MemoryMarshal.GetReference(part);
        var s = full ? (nuint)ldy : Nr;
        c0.StoreUnsafe(ref t, 0); c1.StoreUnsafe(ref t, s); c2.StoreUnsafe(ref t, 2 * s); c3.StoreUnsafe(ref t, 3 * s);
        c4.StoreUnsafe(ref t, 4 * s); c5.StoreUnsafe(ref t, 5 * s); c6.StoreUnsafe(ref t, 6 * s); c7.StoreUnsafe(ref t, 7 * s);
        if (!full) StoreRows(part, output, at, ldy, mr, nr);
    }

    private static void StoreRows(ReadOnlySpan<float> part, Span<float> output, int at, int ldy, int mr, int nr)
    {
        for (var r = 0; r < mr; r++) part.Slice(r * Nr, nr).CopyTo(output.Slice(at + r * ldy, nr));
    }

    // acc[r][j] += Σ_i rows[o_i + r]·∂Y[i][j] over the block's pixels (acc a 6 × 16 tile, ∂Y the block's strip).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Weight6x16(ref float rows, ReadOnlySpan<int> offsets, ref float dy, ref float acc)
    {
        var c00 = Vector256.LoadUnsafe(ref acc, 0); var c01 = Vector256.LoadUnsafe(ref acc, 8);
        var c10 = Vector256.LoadUnsafe(ref acc, 16); var c11 = Vector256.LoadUnsafe(ref acc, 24);
        var c20 = Vector256.LoadUnsafe(ref acc, 32); var c21 = Vector256.LoadUnsafe(ref acc, 40);
        var c30 = Vector256.LoadUnsafe(ref acc, 48); var c31 = Vector256.LoadUnsafe(ref acc, 56);
        var c40 = Vector256.LoadUnsafe(ref acc, 64); var c41 = Vector256.LoadUnsafe(ref acc, 72);
        var c50 = Vector256.LoadUnsafe(ref acc, 80); var c51 = Vector256.LoadUnsafe(ref acc, 88);
        nuint go = 0;
        foreach (var offset in offsets)
        {
            ref var x = ref Unsafe.Add(ref rows, (nuint)offset);
            var b0 = Vector256.LoadUnsafe(ref dy, go);
            var b1 = Vector256.LoadUnsafe(ref dy, go + 8);
            go += Nr;
            var a = Vector256.Create(x);
            c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            a = Vector256.Create(Unsafe.Add(ref x, 1));
            c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            a = Vector256.Create(Unsafe.Add(ref x, 2));
            c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            a = Vector256.Create(Unsafe.Add(ref x, 3));
            c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            a = Vector256.Create(Unsafe.Add(ref x, 4));
            c40 = Vector256.FusedMultiplyAdd(a, b0, c40); c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
            a = Vector256.Create(Unsafe.Add(ref x, 5));
            c50 = Vector256.FusedMultiplyAdd(a, b0, c50); c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
        }
        c00.StoreUnsafe(ref acc, 0); c01.StoreUnsafe(ref acc, 8);
        c10.StoreUnsafe(ref acc, 16); c11.StoreUnsafe(ref acc, 24);
        c20.StoreUnsafe(ref acc, 32); c21.StoreUnsafe(ref acc, 40);
        c30.StoreUnsafe(ref acc, 48); c31.StoreUnsafe(ref acc, 56);
        c40.StoreUnsafe(ref acc, 64); c41.StoreUnsafe(ref acc, 72);
        c50.StoreUnsafe(ref acc, 80); c51.StoreUnsafe(ref acc, 88);
    }

    // The 12 × 16 Vector512 tile of Weight6x16.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Weight12x16(ref float rows, ReadOnlySpan<int> offsets, ref float dy, ref float acc)
    {
        var c0 = Vector512.LoadUnsafe(ref acc, 0); var c1 = Vector512.LoadUnsafe(ref acc, 16);
        var c2 = Vector512.LoadUnsafe(ref acc, 32); var c3 = Vector512.LoadUnsafe(ref acc, 48);
        var c4 = Vector512.LoadUnsafe(ref acc, 64); var c5 = Vector512.LoadUnsafe(ref acc, 80);
        var c6 = Vector512.LoadUnsafe(ref acc, 96); var c7 = Vector512.LoadUnsafe(ref acc, 112);
        var c8 = Vector512.LoadUnsafe(ref acc, 128); var c9 = Vector512.LoadUnsafe(ref acc, 144);
        var c10 = Vector512.LoadUnsafe(ref acc, 160); var c11 = Vector512.LoadUnsafe(ref acc, 176);
        nuint go = 0;
        foreach (var offset in offsets)
        {
            ref var x = ref Unsafe.Add(ref rows, (nuint)offset);
            var b = Vector512.LoadUnsafe(ref dy, go);
            go += Nr;
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x), b, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 1)), b, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 2)), b, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 3)), b, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 4)), b, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 5)), b, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 6)), b, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 7)), b, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 8)), b, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 9)), b, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 10)), b, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 11)), b, c11);
        }
        c0.StoreUnsafe(ref acc, 0); c1.StoreUnsafe(ref acc, 16); c2.StoreUnsafe(ref acc, 32); c3.StoreUnsafe(ref acc, 48);
        c4.StoreUnsafe(ref acc, 64); c5.StoreUnsafe(ref acc, 80); c6.StoreUnsafe(ref acc, 96); c7.StoreUnsafe(ref acc, 112);
        c8.StoreUnsafe(ref acc, 128); c9.StoreUnsafe(ref acc, 144); c10.StoreUnsafe(ref acc, 160); c11.StoreUnsafe(ref acc, 176);
    }
}
