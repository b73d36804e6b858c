using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural;

public class SgemmTests
{
    private static float[] Random(int length, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }

    // Naive oracle in double: C = op(A)·op(B) (+ C).
    private static float[] Oracle(bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, bool accumulate)
    {
        var result = (float[])c.Clone();
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * ldc + j] : 0;
                for (var p = 0; p < k; p++)
                    sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                result[i * ldc + j] = (float)sum;
            }
        return result;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 13, 5)]
    [InlineData(6, 16, 256)]
    [InlineData(97, 33, 300)]   // crosses the 96-row A block and the 256-deep K block
    [InlineData(13, 2100, 9)]   // crosses the 2048-column B block
    [InlineData(200, 10, 784)]
    public void Multiply_AllTransposes_MatchesNaiveOracle(int m, int n, int k)
    {
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
                foreach (var accumulate in new[] { false, true })
                {
                    // Leading dimensions larger than the logical width, to catch stride mistakes.
                    var lda = (ta ? m : k) + 3;
                    var ldb = (tb ? k : n) + 1;
                    var ldc = n + 2;
                    var a = Random((ta ? k : m) * lda, 1);
                    var b = Random((tb ? n : k) * ldb, 2);
                    var c = Random(m * ldc, 3);
                    var expected = Oracle(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                    Sgemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                    for (var i = 0; i < c.Length; i++)
                        Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-4f * Math.Sqrt(k) + 1e-5f,
                            $"ta={ta} tb={tb} acc={accumulate} at {i}: expected {expected[i]}, got {c[i]}");
                }
    }

    [Fact]
    public void Multiply_ZeroDepth_ClearsOrKeepsOutput()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Sgemm.Multiply(false, false, 2, 2, 0, [], 1, [], 2, c, 2, accumulate: true);
        Assert.Equal([1f, 2f, 3f, 4f], c);
        Sgemm.Multiply(false, false, 2, 2, 0, [], 1, [], 2, c, 2, accumulate: false);
        Assert.Equal([0f, 0f, 0f, 0f], c);
    }

    [Fact]
    public void Multiply_OperandTooShort_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(false, false, 3, 3, 3, new float[8], 3, new float[9], 3, new float[9], 3, false));
        Assert.Contains("a:", e.Message);
    }
}
