using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// One exact dual coordinate step of SDCA (Shalev-Shwartz and Zhang, "Stochastic Dual Coordinate Ascent Methods for
/// Regularized Loss Minimization", JMLR 2013, §5) in the CoCoA+ local subproblem (Ma et al. 2015, eq. (9)). The dual
/// variable of a row is its slope u = φ'(z) at the optimum (<see cref="Training.DualityGap"/>'s convention, w = −(1/(λN)) Σ u_i x_i);
/// the step maximises over δ
/// <code>
///   −φ*(u + δ) + z·δ − (a/2)·δ²,   a = σ'‖x‖²/(λN)
/// </code>
/// with z the row's margin at the worker's current local model. Closed forms for the hinges; a safeguarded Newton
/// iteration on the logistic one, whose conjugate is the negative binary entropy of t = u + y ∈ [0, 1].
/// </summary>
internal static class DualCoordinateStep
{
    /// <summary>Keeps t = u + y of the logistic loss off 0 and 1, where ln t/(1 − t) is infinite.</summary>
    private const double LogisticEdge = 1e-10;

    /// <summary>The change δ of the row's dual variable <paramref name="u"/>.</summary>
    public static double Solve(DualLoss loss, double u, float y, double z, double a) => loss switch
    {
        DualLoss.Logistic => Logistic(u, y, z, a),
        DualLoss.SquaredHinge => SquaredHinge(u, y, z, a),
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "no dual step for this loss"),
    };

    /// <summary>The dual variable of a row at its start: 0 (w = 0), inside every conjugate's domain.</summary>
    public static double Clamp(DualLoss loss, double u, float y) => loss switch
    {
        DualLoss.Logistic => Math.Clamp(u + y, LogisticEdge, 1 - LogisticEdge) - y,
        _ => (2 * y - 1) * u > 0 ? 0 : u,
    };

    // Stationarity in t = u + y: g(t) = ln(t/(1 − t)) + a(t − t₀) − z = 0, g increasing on (0, 1): Newton steps kept inside
    // a shrinking bracket [lo, hi] (bisection when a step leaves it), to 1e-12.
    private static double Logistic(double u, float y, double z, double a)
    {
        var t0 = Math.Clamp(u + y, LogisticEdge, 1 - LogisticEdge);
        double lo = LogisticEdge, hi = 1 - LogisticEdge, t = t0;
        for (var i = 0; i < 60; i++)
        {
            var g = Math.Log(t / (1 - t)) + a * (t - t0) - z;
            if (g > 0) hi = t;
            else lo = t;
            var next = t - g / (1 / (t * (1 - t)) + a);
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (Math.Abs(next - t) < 1e-12) { t = next; break; }
            t = next;
        }
        return t - (u + y);
    }

    // u = −s·β with β ≥ 0 and φ*(u) = −β + β²/4: the maximiser of β − β²/4 − s·z·Δβ − (a/2)Δβ² over β + Δβ ≥ 0.
    private static double SquaredHinge(double u, float y, double z, double a)
    {
        var s = 2.0 * y - 1;
        var beta = -s * u;
        var next = Math.Max(0, beta + (1 - s * z - beta / 2) / (0.5 + a));
        return -s * (next - beta);
    }
}

/// <summary>The losses CoCoA+ steps on, from the job's model.</summary>
internal enum DualLoss
{
    Logistic,
    SquaredHinge,
}

internal static class DualLosses
{
    public static DualLoss Of(ModelSpec model) => model.Type == ModelTypes.Logistic ? DualLoss.Logistic : DualLoss.SquaredHinge;
}
