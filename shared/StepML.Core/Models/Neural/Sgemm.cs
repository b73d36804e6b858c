using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StepML.Core.Models.Neural;

/// <summary>
/// Single-precision matrix multiply C = op(A)·op(B) (or C += op(A)·op(B)) on row-major matrices, the hot loop of the
/// dense and convolution layers. Cache-blocked after Goto and van de Geijn ("Anatomy of high-performance matrix
/// multiplication", ACM TOMS 34(3), 2008): B is packed in KC×NC blocks of 16-column strips, A in MC×KC blocks of
/// 6-row strips, and a 6×16 register-tile micro-kernel (12 Vector256 accumulators, one FMA per A broadcast and B
/// vector) runs over the packed strips. Packing also absorbs the transposes, so all four op combinations share the
/// kernel. Single-threaded by design: workers are the unit of parallelism.
/// </summary>
public static class Sgemm
{
    private const int Mr = 6;
    private const int Nr = 16;
    private const int Kc = 256;
    private const int Mc = 96;   // 16 strips of Mr: an A block of 96×256 floats (96 KiB) stays in L2
    private const int Nc = 2048;

    /// <summary>
    /// op(A) is m×k and op(B) is k×n: op(A)[i,p] = transposeA ? a[p·lda + i] : a[i·lda + p], and likewise for B.
    /// C is m×n with row stride ldc; it is overwritten unless <paramref name="accumulate"/>.
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"matrix sizes must be ≥ 0 (m {m}, n {n}, k {k})");
        if (m == 0 || n == 0) return;
        CheckOperand(nameof(a), a.Length, transposeA ? k : m, transposeA ? m : k, lda);
        CheckOperand(nameof(b), b.Length, transposeB ? n : k, transposeB ? k : n, ldb);
        CheckOperand(nameof(c), c.Length, m, n, ldc);
        if (k == 0)
        {
            if (!accumulate)
                for (var i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }

        var packedA = ArrayPool<float>.Shared.Rent(Mc * Kc);
        var packedB = ArrayPool<float>.Shared.Rent(Kc * (Math.Min(n, Nc) + Nr));
        try
        {
            for (var jc = 0; jc < n; jc += Nc)
            {
                var nc = Math.Min(Nc, n - jc);
                for (var pc = 0; pc < k; pc += Kc)
                {
                    var kc = Math.Min(Kc, k - pc);
                    PackB(transposeB, b, ldb, pc, jc, kc, nc, packedB);
                    var add = accumulate || pc > 0;
                    for (var ic = 0; ic < m; ic += Mc)
                    {
                        var mc = Math.Min(Mc, m - ic);
                        PackA(transposeA, a, lda, ic, pc, mc, kc, packedA);
                        for (var jr = 0; jr < nc; jr += Nr)
                        {
                            var nr = Math.Min(Nr, nc - jr);
                            ref var bStrip = ref packedB[jr * kc];
                            for (var ir = 0; ir < mc; ir += Mr)
                            {
                                var mr = Math.Min(Mr, mc - ir);
                                ref var aStrip = ref packedA[ir * kc];
                                Kernel(kc, ref aStrip, ref bStrip, c, (ic + ir) * ldc + jc + jr, ldc, mr, nr, add);
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
        }
    }

    private static void CheckOperand(string name, int length, int rows, int columns, int stride)
    {
        if (stride < columns) throw new ArgumentException($"{name}: row stride {stride} is smaller than its {columns} columns");
        if (rows > 0 && columns > 0 && (long)(rows - 1) * stride + columns > length)
            throw new ArgumentException($"{name}: {rows}×{columns} with row stride {stride} needs {(long)(rows - 1) * stride + columns} values, got {length}");
    }

    // Strips of Mr rows: packed[strip·kc·Mr + p·Mr + r] = op(A)[ic + strip·Mr + r, pc + p], zero-padded past mc.
    private static void PackA(bool transpose, ReadOnlySpan<float> a, int lda, int ic, int pc, int mc, int kc, float[] packed)
    {
        var o = 0;
        for (var i0 = 0; i0 < mc; i0 += Mr)
        {
            var rows = Math.Min(Mr, mc - i0);
            if (!transpose)
            {
                for (var r = 0; r < Mr; r++)
                {
                    if (r < rows)
                    {
                        var src = a.Slice((ic + i0 + r) * lda + pc, kc);
                        for (var p = 0; p < kc; p++) packed[o + p * Mr + r] = src[p];
                    }
                    else
                    {
                        for (var p = 0; p < kc; p++) packed[o + p * Mr + r] = 0f;
                    }
                }
            }
            else
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = a.Slice((pc + p) * lda + ic + i0, rows);
                    var dst = packed.AsSpan(o + p * Mr, Mr);
                    src.CopyTo(dst);
                    dst[rows..].Clear();
                }
            }
            o += kc * Mr;
        }
    }

    // Strips of Nr columns: packed[strip·kc·Nr + p·Nr + j] = op(B)[pc + p, jc + strip·Nr + j], zero-padded past nc.
    private static void PackB(bool transpose, ReadOnlySpan<float> b, int ldb, int pc, int jc, int kc, int nc, float[] packed)
    {
        var o = 0;
        for (var j0 = 0; j0 < nc; j0 += Nr)
        {
            var cols = Math.Min(Nr, nc - j0);
            if (!transpose)
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = b.Slice((pc + p) * ldb + jc + j0, cols);
                    var dst = packed.AsSpan(o + p * Nr, Nr);
                    src.CopyTo(dst);
                    dst[cols..].Clear();
                }
            }
            else
            {
                for (var j = 0; j < Nr; j++)
                {
                    if (j < cols)
                    {
                        var src = b.Slice((jc + j0 + j) * ldb + pc, kc);
                        for (var p = 0; p < kc; p++) packed[o + p * Nr + j] = src[p];
                    }
                    else
                    {
                        for (var p = 0; p < kc; p++) packed[o + p * Nr + j] = 0f;
                    }
                }
            }
            o += kc * Nr;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(int kc, ref float a, ref float b, Span<float> c, int cOffset, int ldc, int mr, int nr, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nuint ao = 0, bo = 0;
        for (var p = 0; p < kc; p++, ao += Mr, bo += Nr)
        {
            var b0 = Vector256.LoadUnsafe(ref b, bo);
            var b1 = Vector256.LoadUnsafe(ref b, bo + 8);
            var x = Vector256.Create(Unsafe.Add(ref a, ao));
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref a, ao + 1));
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref a, ao + 2));
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref a, ao + 3));
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(Unsafe.Add(ref a, ao + 4));
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(Unsafe.Add(ref a, ao + 5));
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }

        if (mr == Mr && nr == Nr)
        {
            ref var c0 = ref MemoryMarshal.GetReference(c);
            var o = (nuint)cOffset;
            var s = (nuint)ldc;
            Store(ref c0, o, c00, c01, add);
            Store(ref c0, o + s, c10, c11, add);
            Store(ref c0, o + 2 * s, c20, c21, add);
            Store(ref c0, o + 3 * s, c30, c31, add);
            Store(ref c0, o + 4 * s, c40, c41, add);
            Store(ref c0, o + 5 * s, c50, c51, add);
            return;
        }

        Span<float> tile = stackalloc float[Mr * Nr];
        ref var t = ref MemoryMarshal.GetReference(tile);
        c00.StoreUnsafe(ref t, 0); c01.StoreUnsafe(ref t, 8);
        c10.StoreUnsafe(ref t, 16); c11.StoreUnsafe(ref t, 24);
        c20.StoreUnsafe(ref t, 32); c21.StoreUnsafe(ref t, 40);
        c30.StoreUnsafe(ref t, 48); c31.StoreUnsafe(ref t, 56);
        c40.StoreUnsafe(ref t, 64); c41.StoreUnsafe(ref t, 72);
        c50.StoreUnsafe(ref t, 80); c51.StoreUnsafe(ref t, 88);
        for (var r = 0; r < mr; r++)
        {
            var row = c.Slice(cOffset + r * ldc, nr);
            var src = tile.Slice(r * Nr, nr);
            if (add)
                for (var j = 0; j < nr; j++) row[j] += src[j];
            else
                src.CopyTo(row);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, nuint offset, Vector256<float> v0, Vector256<float> v1, bool add)
    {
        if (add)
        {
            v0 += Vector256.LoadUnsafe(ref c, offset);
            v1 += Vector256.LoadUnsafe(ref c, offset + 8);
        }
        v0.StoreUnsafe(ref c, offset);
        v1.StoreUnsafe(ref c, offset + 8);
    }
}
