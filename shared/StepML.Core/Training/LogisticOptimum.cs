using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Training;

/// <summary>
/// The single-machine reference: the exact minimiser of the L2-regularised logistic objective over all training
/// partitions, by Newton's method with a backtracking line search. The Hessian is
/// H = (1/N) Σ σ(z)(1−σ(z)) x̃x̃ᵀ + λ·diag(m) with x̃ = (x, 1), solved by Cholesky. Accumulates in double.
/// Feasible for the dense, moderately sized problems it is used on (d ≲ 1000).
/// </summary>
public static class LogisticOptimum
{
    public sealed record Result(float[] Parameters, double Objective, int Iterations);

    public static Result Solve(IReadOnlyList<Partition> partitions, double l2, int maxIterations = 50, double gradientTolerance = 1e-10)
    {
        var d = partitions[0].Features;
        var n = d + 1;
        var model = new LogisticRegression(d);
        var mask = new float[n];
        model.RegularizationMask(mask);
        long rows = partitions.Sum(p => (long)p.Rows);
        var w = new double[n];
        var iterations = 0;
        for (; iterations < maxIterations; iterations++)
        {
            var (objective, gradient, hessian) = Derivatives(partitions, w, mask, l2, rows);
            var gnorm = Math.Sqrt(gradient.Sum(g => g * g));
            if (gnorm < gradientTolerance) break;
            var step = CholeskySolve(hessian, gradient, n);
            // Backtracking (Armijo) keeps Newton monotone far from the optimum.
            var t = 1.0;
            var decrease = gradient.Zip(step).Sum(p => p.First * p.Second);
            while (t > 1e-8)
            {
                var trial = w.Select((v, i) => v - t * step[i]).ToArray();
                if (Objective(partitions, trial, mask, l2, rows) <= objective - 1e-4 * t * decrease) { w = trial; break; }
                t *= 0.5;
            }
            if (t <= 1e-8) break;
        }
        var result = w.Select(v => (float)v).ToArray();
        return new Result(result, Objective(partitions, w, mask, l2, rows), iterations);
    }

    /// <summary>F(w) = mean logistic loss + (λ/2)‖m∘w‖², in double.</summary>
    public static double Objective(IReadOnlyList<Partition> partitions, ReadOnlySpan<float> w, double l2)
    {
        var mask = new float[w.Length];
        new LogisticRegression(w.Length - 1).RegularizationMask(mask);
        var wd = new double[w.Length];
        for (var i = 0; i < w.Length; i++) wd[i] = w[i];
        return Objective(partitions, wd, mask, l2, partitions.Sum(p => (long)p.Rows));
    }

    private static double Objective(IReadOnlyList<Partition> partitions, double[] w, float[] mask, double l2, long rows)
    {
        var d = w.Length - 1;
        double loss = 0;
        foreach (var p in partitions)
            for (var r = 0; r < p.Rows; r++)
            {
                var z = Margin(p, r, w, d);
                loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - p.Labels[r] * z;
            }
        double reg = 0;
        for (var i = 0; i < w.Length; i++) reg += mask[i] * w[i] * w[i];
        return loss / rows + 0.5 * l2 * reg;
    }

    private static (double, double[], double[]) Derivatives(IReadOnlyList<Partition> partitions, double[] w, float[] mask, double l2, long rows)
    {
        var n = w.Length;
        var d = n - 1;
        var g = new double[n];
        var h = new double[n * n];
        var xt = new double[n];
        double loss = 0;
        foreach (var p in partitions)
            for (var r = 0; r < p.Rows; r++)
            {
                var row = p.DenseRow(r);
                for (var i = 0; i < d; i++) xt[i] = row[i];
                xt[d] = 1;
                var z = Margin(p, r, w, d);
                var y = p.Labels[r];
                loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - y * z;
                var s = 1 / (1 + Math.Exp(-z));
                var c = s * (1 - s);
                for (var i = 0; i < n; i++)
                {
                    g[i] += (s - y) * xt[i];
                    var cx = c * xt[i];
                    for (var j = 0; j <= i; j++) h[i * n + j] += cx * xt[j];
                }
            }
        double reg = 0;
        for (var i = 0; i < n; i++)
        {
            g[i] = g[i] / rows + l2 * mask[i] * w[i];
            reg += mask[i] * w[i] * w[i];
            for (var j = 0; j <= i; j++)
            {
                h[i * n + j] /= rows;
                h[j * n + i] = h[i * n + j];
            }
            h[i * n + i] += l2 * mask[i] + 1e-12;
        }
        return (loss / rows + 0.5 * l2 * reg, g, h);
    }

    private static double Margin(Partition p, int r, double[] w, int d)
    {
        var row = p.DenseRow(r);
        double z = w[d];
        for (var i = 0; i < d; i++) z += w[i] * row[i];
        return z;
    }

    /// <summary>Solves A·x = b for a symmetric positive definite A (row-major, n×n) by Cholesky, in double.</summary>
    internal static double[] CholeskySolve(double[] a, double[] b, int n)
    {
        var l = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i * n + j];
                for (var k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
                if (i == j)
                {
                    if (sum <= 0) throw new InvalidOperationException("Hessian is not positive definite; set model.l2 > 0");
                    l[i * n + i] = Math.Sqrt(sum);
                }
                else l[i * n + j] = sum / l[j * n + j];
            }
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
            y[i] = sum / l[i * n + i];
        }
        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
            x[i] = sum / l[i * n + i];
        }
        return x;
    }
}
