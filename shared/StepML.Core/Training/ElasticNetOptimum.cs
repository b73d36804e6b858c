using StepML.Core.Data;

namespace StepML.Core.Training;

/// <summary>
/// Single-machine reference for the L1-regularised (elastic-net) linear models, in double precision:
/// F(w, b) = (1/N) Σ loss(w·x_i + b, y_i) + (λ₂/2)‖w‖² + λ₁‖w‖₁ (bias free of both penalties), for the smooth losses
/// (logistic, squared hinge). FISTA (Beck and Teboulle, "A Fast Iterative Shrinkage-Thresholding Algorithm", SIAM J.
/// Imaging Sciences 2009, with the backtracking of §4) and the gradient-based adaptive restart of O'Donoghue and
/// Candès (2015), which restores linear convergence on strongly convex problems. It stops when the proximal-gradient
/// mapping's max-norm ‖(w − prox(w − ∇f/L))·L‖∞ falls below <c>tolerance</c>: the optimality condition of the
/// composite problem, met to that precision. The hinge loss has no Lipschitz gradient, so it has no reference here.
/// </summary>
public static class ElasticNetOptimum
{
    public sealed record Result(double[] Parameters, double Objective, int Iterations, double Stationarity, long ZeroWeights);

    public static Result Solve(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, double l1, int maxIterations = 50_000, double tolerance = 1e-9)
    {
        if (loss == LinearLoss.Hinge)
            throw new ArgumentException("the hinge loss is not smooth: FISTA needs a Lipschitz gradient (use logistic or squared hinge)", nameof(loss));
        var n = partitions[0].Features + 1;
        var d = n - 1;
        var w = new double[n];
        var y = new double[n];
        var previous = new double[n];
        var gradient = new double[n];
        var trial = new double[n];
        var t = 1.0;
        var lipschitz = 1.0;
        var stationarity = double.PositiveInfinity;
        var iteration = 0;
        for (; iteration < maxIterations; iteration++)
        {
            var fy = LinearOptimum.Evaluate(partitions, loss, l2, y, gradient);
            // Backtracking: grow L until the quadratic model at y majorises f at the proximal point.
            double fTrial;
            while (true)
            {
                Step(y, gradient, lipschitz, l1, d, trial);
                fTrial = LinearOptimum.Evaluate(partitions, loss, l2, trial, null);
                double linear = 0, quadratic = 0;
                for (var i = 0; i < n; i++)
                {
                    var delta = trial[i] - y[i];
                    linear += gradient[i] * delta;
                    quadratic += delta * delta;
                }
                if (fTrial <= fy + linear + 0.5 * lipschitz * quadratic + 1e-15 * Math.Abs(fy)) break;
                lipschitz *= 2;
            }
            stationarity = 0;
            for (var i = 0; i < n; i++) stationarity = Math.Max(stationarity, lipschitz * Math.Abs(trial[i] - y[i]));
            Array.Copy(w, previous, n);
            Array.Copy(trial, w, n);
            if (stationarity < tolerance) break;
            // Restart the momentum when it points uphill: (y − w_new)·(w_new − w_old) > 0.
            double restart = 0;
            for (var i = 0; i < n; i++) restart += (y[i] - w[i]) * (w[i] - previous[i]);
            var tNext = restart > 0 ? 1.0 : (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            var momentum = restart > 0 ? 0 : (t - 1) / tNext;
            t = tNext;
            for (var i = 0; i < n; i++) y[i] = w[i] + momentum * (w[i] - previous[i]);
            // Let L shrink again slowly, so one steep region does not fix a small step for ever.
            lipschitz *= 0.95;
        }
        long zeros = 0;
        for (var i = 0; i < d; i++) if (w[i] == 0) zeros++;
        return new Result(w, Objective(partitions, loss, l2, l1, w), iteration, stationarity, zeros);
    }

    /// <summary>F at <paramref name="parameters"/> (d weights then the bias), L1 term included.</summary>
    public static double Objective(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, double l1, ReadOnlySpan<float> parameters)
    {
        var w = new double[parameters.Length];
        for (var i = 0; i < w.Length; i++) w[i] = parameters[i];
        return Objective(partitions, loss, l2, l1, w);
    }

    private static double Objective(IReadOnlyList<Partition> partitions, LinearLoss loss, double l2, double l1, double[] w)
    {
        double abs = 0;
        for (var i = 0; i < w.Length - 1; i++) abs += Math.Abs(w[i]);
        return LinearOptimum.Evaluate(partitions, loss, l2, w, null) + l1 * abs;
    }

    // target = prox_{λ₁/L}(y − ∇f(y)/L) on the weights; a plain gradient step on the bias.
    private static void Step(double[] y, double[] gradient, double lipschitz, double l1, int d, double[] target)
    {
        var threshold = l1 / lipschitz;
        for (var i = 0; i < y.Length; i++)
        {
            var v = y[i] - gradient[i] / lipschitz;
            target[i] = i < d ? Math.Sign(v) * Math.Max(Math.Abs(v) - threshold, 0) : v;
        }
    }
}
