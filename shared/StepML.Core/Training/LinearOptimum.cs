using StepML.Core.Data;

namespace StepML.Core.Training;

/// <summary>Losses of a binary linear model on the margin z with labels y ∈ {0, 1} (s = 2y − 1 for the SVMs).</summary>
public enum LinearLoss
{
    Logistic,
    Hinge,
    SquaredHinge,
}

/// <summary>
/// Single-machine references for the linear models, in double precision, over dense or CSR partitions, for the
/// objective F(w, b) = (1/N) Σ loss(w·x_i + b, y_i) + (λ/2)‖w‖² (bias unregularised), the one the distributed run
/// reports:
/// <list type="bullet">
/// <item>logistic and squared hinge (both differentiable): L-BFGS (Nocedal and Wright, Algorithm 7.5, memory 10) with
/// an Armijo backtracking line search, run until the gradient's max-norm is below 1e-9 or it stops decreasing;</item>
/// <item>hinge: dual coordinate descent (Hsieh et al., "A Dual Coordinate Descent Method for Large-scale Linear SVM",
/// ICML 2008, Algorithm 1, the L1-loss SVM) on x̃ = (x, 1) with C = 1/(λN), which solves F plus (λ/2)b², until its
    /// duality gap is below 1e-7 of its primal, then an exact
/// one-dimensional minimisation of F over b with w fixed (F is convex in b), which removes the bias penalty's
/// effect on b. The result is a feasible point, so its F is an upper bound of the optimum; <see cref="Result.Gap"/>
/// is the duality gap of the DCD problem, a bound on how far that problem is from its optimum.</item>
/// </list>
/// </summary>
public static class LinearOptimum
{
    public sealed record Result(double[] Parameters, double Objective, int Iterations, double Gap);

    public static Result Solve(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, int maxIterations = 5000) =>
        loss == LinearLoss.Hinge ? SolveHinge(partitions, l2, maxIterations) : SolveSmooth(partitions, loss, l2, maxIterations);

    /// <summary>F(w, b) in double; <paramref name="parameters"/> are d weights then b.</summary>
    public static double Objective(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, ReadOnlySpan<float> parameters)
    {
        var w = new double[parameters.Length];
        for (var i = 0; i < w.Length; i++) w[i] = parameters[i];
        return Evaluate(partitions, loss, l2, w, null);
    }

    private static Result SolveSmooth(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, int maxIterations)
    {
        var n = partitions[0].Features + 1;
        var w = new double[n];
        var g = new double[n];
        var f = Evaluate(partitions, loss, l2, w, g);
        const int memory = 10;
        var s = new double[memory][];
        var y = new double[memory][];
        var rho = new double[memory];
        var alpha = new double[memory];
        var count = 0;
        var direction = new double[n];
        var trial = new double[n];
        var trialGradient = new double[n];
        var iteration = 0;
        for (; iteration < maxIterations; iteration++)
        {
            if (MaxAbs(g) < 1e-9) break;
            // Two-loop recursion: direction = −H·g.
            Array.Copy(g, direction, n);
            for (var k = count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * Dot(s[k], direction);
                Axpy(-alpha[k], y[k], direction);
            }
            var gamma = count > 0 ? Dot(s[count - 1], y[count - 1]) / Dot(y[count - 1], y[count - 1]) : 1 / Math.Max(1, Math.Sqrt(Dot(g, g)));
            for (var i = 0; i < n; i++) direction[i] *= gamma;
            for (var k = 0; k < count; k++)
            {
                var beta = rho[k] * Dot(y[k], direction);
                Axpy(alpha[k] - beta, s[k], direction);
            }
            for (var i = 0; i < n; i++) direction[i] = -direction[i];
            var slope = Dot(g, direction);
            if (slope >= 0)
            {
                // Not a descent direction (curvature pairs went stale): restart from steepest descent.
                count = 0;
                for (var i = 0; i < n; i++) direction[i] = -g[i];
                slope = -Dot(g, g);
            }
            var t = 1.0;
            double fTrial;
            while (true)
            {
                for (var i = 0; i < n; i++) trial[i] = w[i] + t * direction[i];
                fTrial = Evaluate(partitions, loss, l2, trial, trialGradient);
                if (fTrial <= f + 1e-4 * t * slope) break;
                t *= 0.5;
                if (t < 1e-20) return new Result(w, f, iteration, MaxAbs(g));
            }
            var sk = new double[n];
            var yk = new double[n];
            for (var i = 0; i < n; i++)
            {
                sk[i] = trial[i] - w[i];
                yk[i] = trialGradient[i] - g[i];
            }
            var sy = Dot(sk, yk);
            if (sy > 1e-16)
            {
                if (count == memory)
                {
                    Array.Copy(s, 1, s, 0, memory - 1);
                    Array.Copy(y, 1, y, 0, memory - 1);
                    Array.Copy(rho, 1, rho, 0, memory - 1);
                    count--;
                }
                s[count] = sk;
                y[count] = yk;
                rho[count] = 1 / sy;
                count++;
            }
            var decrease = f - fTrial;
            Array.Copy(trial, w, n);
            Array.Copy(trialGradient, g, n);
            f = fTrial;
            if (decrease <= 1e-16 * Math.Max(1, Math.Abs(f))) { iteration++; break; }
        }
        return new Result(w, f, iteration, MaxAbs(g));
    }

    private static Result SolveHinge(IReadOnlyList<Partition> partitions, double l2, int maxEpochs)
    {
        if (!(l2 > 0)) throw new ArgumentOutOfRangeException(nameof(l2), l2, "the hinge reference needs model.l2 > 0");
        var d = partitions[0].Features;
        var rows = new List<(Partition Data, int Row)>();
        foreach (var p in partitions)
            for (var r = 0; r < p.Rows; r++) rows.Add((p, r));
        var total = rows.Count;
        var c = 1 / (l2 * total);
        var w = new double[d + 1]; // w̃ = (w, b) with the bias as the weight of a constant feature 1
        var alpha = new double[total];
        var q = new double[total];
        for (var i = 0; i < total; i++) q[i] = SquaredNorm(rows[i].Data, rows[i].Row) + 1;
        var order = new int[total];
        for (var i = 0; i < total; i++) order[i] = i;
        var random = new Xoshiro256(1);
        var epoch = 0;
        for (; epoch < maxEpochs; epoch++)
        {
            for (var i = total - 1; i > 0; i--)
            {
                var j = random.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            double maxPg = double.NegativeInfinity, minPg = double.PositiveInfinity;
            foreach (var i in order)
            {
                var (data, r) = rows[i];
                var sign = 2.0 * data.Labels[r] - 1;
                var gradient = sign * Margin(data, r, w) - 1;
                var projected = alpha[i] == 0 ? Math.Min(gradient, 0) : alpha[i] == c ? Math.Max(gradient, 0) : gradient;
                maxPg = Math.Max(maxPg, projected);
                minPg = Math.Min(minPg, projected);
                if (projected == 0) continue;
                var old = alpha[i];
                alpha[i] = Math.Min(Math.Max(old - gradient / q[i], 0), c);
                AddRow(data, r, (alpha[i] - old) * sign, w);
            }
            if (maxPg - minPg < 1e-9) { epoch++; break; }
            if (epoch % 5 == 4 && DualityGap(rows, w, alpha, c, out var primal) <= 1e-7 * primal) { epoch++; break; }
        }
        var gap = DualityGap(rows, w, alpha, c, out _);
        PolishBias(partitions, l2, w);
        return new Result(w, Evaluate(partitions, LinearLoss.Hinge, l2, w, null), epoch, gap);
    }

    // The DCD problem's primal P(w̃) = ½‖w̃‖² + C Σ hinge minus its dual D(α) = Σα − ½‖w̃‖² (≥ 0; 0 at the optimum).
    private static double DualityGap(List<(Partition Data, int Row)> rows, double[] w, double[] alpha, double c, out double primal)
    {
        double hinge = 0;
        foreach (var (data, r) in rows) hinge += Math.Max(0, 1 - (2.0 * data.Labels[r] - 1) * Margin(data, r, w));
        var half = 0.5 * Dot(w, w);
        primal = half + c * hinge;
        return primal - (alpha.Sum() - half);
    }

    // F is convex in b alone: golden-section search on a bracket that contains its minimum.
    private static void PolishBias(IReadOnlyList<Partition> partitions, double l2, double[] w)
    {
        var d = w.Length - 1;
        double F(double b)
        {
            w[d] = b;
            return Evaluate(partitions, LinearLoss.Hinge, l2, w, null);
        }
        var start = w[d];
        double lo = start - 1, hi = start + 1;
        while (F(lo) < F(start)) lo -= 2 * (start - lo);
        while (F(hi) < F(start)) hi += 2 * (hi - start);
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
        double f1 = F(x1), f2 = F(x2);
        for (var i = 0; i < 80 && hi - lo > 1e-12; i++)
        {
            if (f1 <= f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - ratio * (hi - lo); f1 = F(x1); }
            else { lo = x1; x1 = x2; f1 = f2; x2 = lo + ratio * (hi - lo); f2 = F(x2); }
        }
        var best = f1 <= f2 ? x1 : x2;
        w[d] = F(best) <= F(start) ? best : start;
    }

    /// <summary>F at <paramref name="w"/>; fills <paramref name="gradient"/> (∇F) when not null.</summary>
    internal static double Evaluate(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, double[] w, double[]? gradient)
    {
        var d = w.Length - 1;
        if (gradient is not null) Array.Clear(gradient);
        double sum = 0;
        long total = 0;
        foreach (var p in partitions)
        {
            total += p.Rows;
            for (var r = 0; r < p.Rows; r++)
            {
                var z = Margin(p, r, w);
                var y = (double)p.Labels[r];
                var s = 2 * y - 1;
                double value, slope;
                switch (loss)
                {
                    case LinearLoss.Logistic:
                        value = Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - y * z;
                        slope = 1 / (1 + Math.Exp(-z)) - y;
                        break;
                    case LinearLoss.Hinge:
                        value = Math.Max(0, 1 - s * z);
                        slope = s * z < 1 ? -s : 0;
                        break;
                    default:
                        var m = Math.Max(0, 1 - s * z);
                        value = m * m;
                        slope = -2 * s * m;
                        break;
                }
                sum += value;
                if (gradient is not null && slope != 0) AddRow(p, r, slope, gradient);
            }
        }
        double reg = 0;
        for (var i = 0; i < d; i++) reg += w[i] * w[i];
        if (gradient is not null)
            for (var i = 0; i <= d; i++) gradient[i] = gradient[i] / total + (i < d ? l2 * w[i] : 0);
        return sum / total + 0.5 * l2 * reg;
    }

    // w·x_r + w[d] (the bias, or the constant feature's weight).
    private static double Margin(Partition p, int r, double[] w)
    {
        var d = w.Length - 1;
        double z = w[d];
        if (p.IsSparse)
        {
            for (var k = p.RowOffsets![r]; k < p.RowOffsets[r + 1]; k++) z += w[p.Indices![k]] * p.Values![k];
        }
        else
        {
            var row = p.DenseRow(r);
            for (var j = 0; j < d; j++) z += w[j] * row[j];
        }
        return z;
    }

    // target += a·(x_r, 1).
    private static void AddRow(Partition p, int r, double a, double[] target)
    {
        var d = target.Length - 1;
        if (p.IsSparse)
        {
            for (var k = p.RowOffsets![r]; k < p.RowOffsets[r + 1]; k++) target[p.Indices![k]] += a * p.Values![k];
        }
        else
        {
            var row = p.DenseRow(r);
            for (var j = 0; j < d; j++) target[j] += a * row[j];
        }
        target[d] += a;
    }

    private static double SquaredNorm(Partition p, int r)
    {
        double sum = 0;
        if (p.IsSparse)
        {
            for (var k = p.RowOffsets![r]; k < p.RowOffsets[r + 1]; k++) sum += (double)p.Values![k] * p.Values[k];
        }
        else
        {
            foreach (var v in p.DenseRow(r)) sum += (double)v * v;
        }
        return sum;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (var i = 0; i < x.Length; i++) y[i] += a * x[i];
    }

    private static double MaxAbs(double[] v)
    {
        double max = 0;
        foreach (var x in v) max = Math.Max(max, Math.Abs(x));
        return max;
    }
}
