using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Training;

namespace StepML.Core.Algorithms;

/// <summary>
/// Distributed Newton's method for the binary linear models with few features (logistic regression, squared-hinge
/// SVM). The gradient and the Hessian of an average of losses are the sample-weighted averages of the partitions'
/// gradients and Hessians, so one round is one exact Newton step: every worker sends, per parameter j, the row
/// <code>
///   (p_j, q_j, H_j0, …, H_jd)    p, q = (1/n_i) Σ φ'(z)·x̃ over rows with φ' &gt; 0 and φ' &lt; 0 (their sum is the gradient),
///                                H = (1/n_i) Σ φ''(z)·x̃x̃ᵀ,  x̃ = (x, 1)
/// </code>
/// (stride d + 3); the merger averages them, adds the L2 term, g = p + q + λ·m∘w and H + λ·diag(m), and solves
/// (H + λ·diag(m))·Δ = g by Cholesky. Splitting the gradient by the sign of the slope costs one value per parameter
/// and gives the Fenchel dual bound of <see cref="DualityGap"/> at the round's model for free: a certified gap.
/// Far from the optimum the step is damped, w ← w − Δ/(1 + δ) with the Newton decrement δ = √(gᵀΔ) when δ &gt; 1/2
/// (Nesterov, "Introductory Lectures on Convex Optimization", 2004, §4.1.5), which needs no extra round for a line
/// search; close to the optimum the full step converges quadratically. The squared hinge uses the generalised Hessian
/// 2·[s·z &lt; 1] (Keerthi and DeCoste 2005); the plain hinge has no curvature and is refused.
/// The solve needs the whole Hessian, so Newton does not shard: <c>communication.shards</c> must be 1, and the
/// (d + 1)² statistic limits it to <see cref="MaxFeatures"/> features.
/// </summary>
public sealed class Newton : IAlgorithm
{
    public const int MaxFeatures = 2000;
    private const double DampingThreshold = 0.5;
    private readonly double _lambda;
    private readonly int _features;

    public Newton(JobSpec job)
    {
        Validate(job);
        _lambda = job.Model.L2;
        _features = job.Dataset.Features;
    }

    public string Type => AlgorithmTypes.Newton;
    public int WorkerStateLength(int parameters, int rows) => 0;
    public int OptimizerStateStride => 0;

    /// <summary>Per parameter: p_j, q_j and the Hessian row of d + 1 values.</summary>
    public int StatisticStride => _features + 3;

    /// <summary>Rejects jobs Newton cannot run, naming the field (called by the job parser and at construction).</summary>
    public static void Validate(JobSpec job)
    {
        if (job.Model.Type != ModelTypes.Logistic && !(job.Model.Type == ModelTypes.Svm && job.Model.Loss == SvmLosses.SquaredHinge))
            throw new JobSpecException(job.Model.Type == ModelTypes.Svm ? "model.loss" : "model.type",
                job.Model.Type == ModelTypes.Svm
                    ? "\"newton\" needs a twice-differentiable loss: set model.loss to \"squared-hinge\", or train the hinge with \"admm\""
                    : $"\"newton\" trains the binary linear models (\"logistic\", or \"svm\" with \"squared-hinge\"), not '{job.Model.Type}'");
        if (job.Communication.Shards != 1)
            throw new JobSpecException("communication.shards", $"{job.Communication.Shards}: \"newton\" solves one (d+1)×(d+1) system, which cannot be split elementwise over shards; set communication.shards to 1");
        if (job.Dataset.Features > MaxFeatures)
            throw new JobSpecException("algorithm.type", $"\"newton\" sends a (d+1)² Hessian per worker; {job.Dataset.Features} features is more than {MaxFeatures}: use \"admm\"");
        if (!(job.Model.L2 > 0))
            throw new JobSpecException("model.l2", $"{job.Model.L2}: \"newton\" needs model.l2 > 0 (a positive definite system and a finite certified gap)");
    }

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        var n = globalModel.Length;
        var stride = n + 2;
        if (statistic.Length != (long)n * stride) throw new ArgumentException($"the statistic needs {(long)n * stride} values (stride {stride}), got {statistic.Length}");
        var stats = new MarginStatistics(n, hessian: true);
        stats.Add(input.Model, globalModel, input.Data);
        stats.SymmetricHessian();
        var rows = input.Data.Rows;
        var inv = rows == 0 ? 0 : 1.0 / rows;
        var h = stats.Hessian!;
        for (var j = 0; j < n; j++)
        {
            var row = statistic.Slice(j * stride, stride);
            row[0] = (float)(stats.SlopePositive[j] * inv);
            row[1] = (float)(stats.SlopeNegative[j] * inv);
            for (var k = 0; k < n; k++) row[2 + k] = (float)(h[(long)j * n + k] * inv);
        }
        return new WorkerResult(rows, rows == 0 ? 0 : stats.LossSum * inv, Conjugates: new Conjugates(stats.ConjugatePositive * inv, stats.ConjugateNegative * inv));
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel)
    {
        var n = model.Length;
        var stride = n + 2;
        if (merged.Length != (long)n * stride)
            throw new InvalidOperationException($"newton needs the whole model in one shard: {merged.Length} merged values for {n} parameters (communication.shards must be 1)");
        var g = new double[n];
        var h = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            var row = merged.Slice(j * stride, stride);
            g[j] = (double)row[0] + row[1] + _lambda * mask[j] * model[j];
            for (var k = 0; k < n; k++) h[j * n + k] = row[2 + k];
            h[j * n + j] += _lambda * mask[j] + 1e-12;
        }
        var step = LogisticOptimum.CholeskySolve(h, g, n);
        double decrement = 0;
        for (var j = 0; j < n; j++) decrement += g[j] * step[j];
        decrement = Math.Sqrt(Math.Max(decrement, 0));
        var t = decrement > DampingThreshold ? 1 / (1 + decrement) : 1;
        for (var j = 0; j < n; j++) newModel[j] = (float)(model[j] - t * step[j]);
    }

    public DualityGap.Products? Certify(ReadOnlySpan<float> merged, ReadOnlySpan<float> mask)
    {
        var n = mask.Length;
        var stride = merged.Length / n;
        var p = new double[n];
        var q = new double[n];
        for (var j = 0; j < n; j++)
        {
            p[j] = merged[j * stride];
            q[j] = merged[j * stride + 1];
        }
        return DualityGap.Products.Of(p, q, mask);
    }
}
