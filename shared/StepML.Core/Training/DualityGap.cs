using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Training;

/// <summary>
/// A certificate of suboptimality for the binary linear models, from Fenchel duality, needing no single-machine
/// solver. For P(w, b) = (1/N) Σ φ_i(w·x_i + b) + (λ/2)‖w‖² with the bias b unregularised, any dual vector u with
/// u_i in the domain of φ_i* and Σ u_i = 0 gives
/// <code>
///   P* ≥ D(u) = −(1/N) Σ φ_i*(u_i) − ‖v‖² / (2λ),   v = (1/N) Σ u_i x_i
/// </code>
/// (φ_i(z) ≥ u_i z − φ_i*(u_i), the b-term vanishes because Σ u_i = 0, and min_w (λ/2)‖w‖² + w·v = −‖v‖²/(2λ)). We take
/// u_i = φ_i'(z_i), the slopes at the current model (optimal when the model is: the gap is then 0), and make them sum to
/// zero by scaling the larger of the positive and the negative group by t ∈ [0, 1]: every conjugate domain here is an
/// interval holding 0, so t·u_i stays in it, and since φ_i*(0) = 0 convexity gives φ_i*(t·u_i) ≤ t·φ_i*(u_i), so
/// replacing the scaled conjugates by t·Σ φ_i*(u_i) only lowers the bound. Then P(w, b) − P* ≤ P(w, b) − D: the gap is
/// an upper bound on the suboptimality, and (P − D)/D bounds the relative suboptimality (P − P*)/P* when D &gt; 0.
/// The group sums are additive over rows (workers), and the products ‖v‖² split over parameter ranges (shards).
/// </summary>
public static class DualityGap
{
    /// <summary>Products over a range of parameters of the mean slope vectors p (u &gt; 0 rows) and q (u &lt; 0 rows):
    /// Σ m_j p_j², Σ m_j p_j q_j, Σ m_j q_j² over the regularised entries, and p, q of the unregularised one (the bias,
    /// whose entry is the mean of u over the group). Additive over disjoint ranges.</summary>
    public readonly record struct Products(double PositivePositive, double PositiveNegative, double NegativeNegative, double BiasPositive, double BiasNegative)
    {
        public static Products operator +(Products a, Products b) => new(a.PositivePositive + b.PositivePositive, a.PositiveNegative + b.PositiveNegative,
            a.NegativeNegative + b.NegativeNegative, a.BiasPositive + b.BiasPositive, a.BiasNegative + b.BiasNegative);

        public double[] ToArray() => [PositivePositive, PositiveNegative, NegativeNegative, BiasPositive, BiasNegative];

        public static Products FromArray(ReadOnlySpan<double> v) =>
            v.Length == 5 ? new(v[0], v[1], v[2], v[3], v[4]) : throw new ArgumentException($"dual products have 5 values, got {v.Length}");

        public static Products Of(ReadOnlySpan<double> positive, ReadOnlySpan<double> negative, ReadOnlySpan<float> mask, double scale = 1)
        {
            double pp = 0, pn = 0, nn = 0, bp = 0, bn = 0;
            for (var j = 0; j < mask.Length; j++)
            {
                double p = positive[j] * scale, q = negative[j] * scale;
                if (mask[j] != 0)
                {
                    pp += p * p;
                    pn += p * q;
                    nn += q * q;
                }
                else
                {
                    bp += p;
                    bn += q;
                }
            }
            return new Products(pp, pn, nn, bp, bn);
        }
    }

    /// <summary>Relative allowance for rounding: margins are float dot products and the workers' slope sums travel as
    /// float32 means, which moves P and D by about 1e-7 of their size; the certificate adds ten times that.</summary>
    public const double RoundingAllowance = 1e-6;

    public sealed record Certificate(double Primal, double Dual)
    {
        /// <summary>P − D plus the rounding allowance: ≥ P − P*.</summary>
        public double Gap => Math.Max(0, Primal - Dual) + RoundingAllowance * (Math.Abs(Primal) + Math.Abs(Dual));

        /// <summary>(P − D)/D ≥ (P − P*)/P*, or +∞ while the dual bound is not yet positive.</summary>
        public double RelativeGap => Dual > 0 ? Gap / Dual : double.PositiveInfinity;
    }

    /// <summary>The dual bound D from the mean conjugates of the two groups (each (1/N) Σ φ_i*(u_i)) and the slope
    /// products. −∞ when λ = 0 (no strong convexity in w, no finite bound).</summary>
    public static double DualBound(double conjugatePositive, double conjugateNegative, Products v, double l2)
    {
        double a = v.BiasPositive, b = v.BiasNegative;
        double tp = 1, tn = 1;
        if (a + b >= 0) tp = a > 0 ? -b / a : 1;
        else tn = -a / b;
        var norm = tp * tp * v.PositivePositive + 2 * tp * tn * v.PositiveNegative + tn * tn * v.NegativeNegative;
        if (l2 <= 0) return norm > 0 ? double.NegativeInfinity : -(tp * conjugatePositive + tn * conjugateNegative);
        return -(tp * conjugatePositive + tn * conjugateNegative) - norm / (2 * l2);
    }

    /// <summary>The certificate of parameters over whole partitions in one pass (Finalize, tests).</summary>
    public static Certificate Evaluate(IModel model, ReadOnlySpan<float> parameters, IEnumerable<Partition> partitions, double l2)
    {
        var stats = new MarginStatistics(parameters.Length, hessian: false);
        foreach (var p in partitions) stats.Add(model, parameters, p);
        if (stats.Rows == 0) throw new ArgumentException("no rows to certify");
        var inv = 1.0 / stats.Rows;
        var mask = new float[parameters.Length];
        model.RegularizationMask(mask);
        var primal = stats.LossSum * inv + Models.Models.Regularization(parameters, mask, l2);
        var products = Products.Of(stats.SlopePositive, stats.SlopeNegative, mask, inv);
        return new Certificate(primal, DualBound(stats.ConjugatePositive * inv, stats.ConjugateNegative * inv, products, l2));
    }
}
