using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Core.Algorithms;

/// <summary>
/// One exact dual coordinate step of SDCA (Shalev-Shwartz and Zhang, "Stochastic Dual Coordinate Ascent Methods for
/// Regularized Loss Minimization", JMLR 2013, §5) in the CoCoA+ local subproblem (Ma et al. 2015, eq. (9)). The dual
/// variable of a row is its slope u = φ'(z) at the optimum (<see cref="Training.DualityGap"/>'s convention,
/// w = −(1/(λN)) Σ u_i x_i); the step maximises over δ
/// <code>
///   −φ*(u + δ) + z·δ − (a/2)·δ²,   a = σ'‖x̃‖²/(λN),  x̃ = (x, 1)
/// </code>
/// (the 1 is the bias, a feature of value 1 in <see cref="Cocoa"/>'s augmented dual with ρ = 1/λ) with z the row's
/// margin at the worker's current local model. Closed forms for the hinge and the squared hinge; a safeguarded Newton
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
        DualLoss.Hinge => Hinge(u, y, z, a),
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "no dual step for this loss"),
    };

    /// <summary>The dual variable moved into its conjugate's domain (float storage may round it just outside).</summary>
    public static double Clamp(DualLoss loss, double u, float y) => loss switch
    {
        DualLoss.Logistic => Math.Clamp(u + y, LogisticEdge, 1 - LogisticEdge) - y,
        DualLoss.Hinge => -(2.0 * y - 1) * Math.Clamp(-(2.0 * y - 1) * u, 0, 1),
        _ => (2 * y - 1) * u > 0 ? 0 : u,
    };

    // Stationarity in t = u + y: g(t) = ln(t/(1 − t)) + a(t − t₀) − z = 0, g increasing on (0, 1): Newton steps kept
    // inside a shrinking bracket [lo, hi] (bisection when a step leaves it), to 1e-12.
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

    // u = −s·β with β ∈ [0, 1] and φ*(u) = −β: the maximiser of β − s·z·Δβ − (a/2)Δβ², clipped (Hsieh et al. 2008,
    // Algorithm 1).
    private static double Hinge(double u, float y, double z, double a)
    {
        var s = 2.0 * y - 1;
        var beta = -s * u;
        var next = Math.Clamp(beta + (1 - s * z) / a, 0, 1);
        return -s * (next - beta);
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
    Hinge,
}

internal static class DualLosses
{
    public static DualLoss Of(ModelSpec model) =>
        model.Type == ModelTypes.Logistic ? DualLoss.Logistic : model.Loss == SvmLosses.SquaredHinge ? DualLoss.SquaredHinge : DualLoss.Hinge;
}

/// <summary>A partition's dual variables summed for <see cref="Training.DualityGap"/>: Σ u_i·x̃_i over rows with u_i &gt; 0 and
/// u_i &lt; 0 (x̃ = (x, 1), so the last entry is Σ u_i), and Σ φ*(u_i) in the same two groups. Rows in storage order, sums
/// in double; sparse rows touch only their non-zeros.</summary>
internal sealed class DualSums(int parameters)
{
    public double[] Positive { get; } = new double[parameters];
    public double[] Negative { get; } = new double[parameters];
    public double ConjugatePositive { get; private set; }
    public double ConjugateNegative { get; private set; }

    public void Add(DualLoss loss, Partition data, ReadOnlySpan<float> duals)
    {
        var d = Positive.Length - 1;
        for (var r = 0; r < data.Rows; r++)
        {
            var y = data.Labels[r];
            var u = DualCoordinateStep.Clamp(loss, duals[r], y);
            if (u == 0) continue;
            var conjugate = loss switch
            {
                DualLoss.Logistic => LogisticLoss.Conjugate(u, y),
                DualLoss.SquaredHinge => SquaredHingeLoss.Conjugate(u, y),
                _ => HingeLoss.Conjugate(u, y),
            };
            var target = u > 0 ? Positive : Negative;
            if (u > 0) ConjugatePositive += conjugate;
            else ConjugateNegative += conjugate;
            target[d] += u;
            if (data.IsSparse)
            {
                for (var k = data.RowOffsets![r]; k < data.RowOffsets[r + 1]; k++) target[data.Indices![k]] += u * data.Values![k];
            }
            else
            {
                var x = data.Dense.AsSpan(r * d, d);
                for (var j = 0; j < d; j++) target[j] += u * x[j];
            }
        }
    }
}
