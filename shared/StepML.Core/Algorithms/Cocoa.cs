using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Training;

namespace StepML.Core.Algorithms;

/// <summary>
/// CoCoA+ (Ma, Smith, Jaggi et al., "Adding vs. Averaging in Distributed Primal-Dual Optimization", ICML 2015;
/// Smith et al., "CoCoA: A General Framework for Communication-Efficient Distributed Optimization", JMLR 2018) for the
/// binary linear models with many features. Every row i has a dual variable u_i (its slope at the optimum), kept by its
/// worker between rounds (worker state sized by the partition's rows), and w = −(1/(λN)) Σ u_i x_i. In a round, worker k
/// runs <c>localEpochs</c> passes of SDCA (<see cref="DualCoordinateStep"/>) on its rows against the local subproblem
/// G_k^σ' with σ'_k = N/n_k, and sends
/// <code>
///   s_k = −(1/(λ n_k)) Σ_{i∈k} δ_i x_i  = (N/n_k)·Δw_k,     merged by sample weight: Σ_k (n_k/N)·s_k = Σ_k Δw_k
/// </code>
/// so the update w ← w + Σ_k Δw_k <i>adds</i> the workers' changes (γ = 1). σ'_k = N/n_k is safe: by Cauchy–Schwarz with
/// weights n_k/N, ‖Σ_k A_k δ_k‖² ≤ Σ_k (N/n_k)‖A_k δ_k‖², the condition of Ma et al. Lemma 4; with equal partitions it
/// is their σ' = K. This form needs neither N nor K at the worker.
/// <para>The bias b is unregularised in the project's objective (<see cref="LinearOptimum"/>), which would put the
/// constraint Σ u_i = 0 across workers into the dual. Instead b is a separate block: the workers step on the duals with
/// b fixed (b shifts every conjugate by −u·b, so the duals stay feasible when b moves), and the update takes a damped
/// Newton step on b from the mean slope g_b and curvature h_b at the round's model: b ← b − ½·g_b/(h_b + λ). The ½
/// keeps the two blocks' simultaneous steps from overshooting together (the same Cauchy–Schwarz bound with two blocks).</para>
/// <para>Statistic per parameter (stride 3): (s_j, p_j, q_j), p and q the mean slope vectors of the rows with positive
/// and negative slope at the round's model, which give <see cref="DualityGap"/>'s certificate as for Newton; the bias
/// entry sends h_b in place of s. Everything is elementwise, so CoCoA+ shards. Sparse rows: a local step touches only
/// the row's non-zeros. The plain hinge is refused: its bias has no curvature for the b-step (use squared-hinge).</para>
/// </summary>
public sealed class Cocoa : IAlgorithm
{
    private const double BiasStep = 0.5;
    private const int BudgetCheckRows = 1024;
    private readonly double _lambda;
    private readonly int _epochs;
    private readonly DualLoss _loss;

    public Cocoa(JobSpec job)
    {
        Validate(job);
        _lambda = job.Model.L2;
        _epochs = job.Algorithm.LocalEpochs;
        _loss = DualLosses.Of(job.Model);
    }

    public string Type => AlgorithmTypes.Cocoa;
    public int WorkerStateLength(int parameters, int rows) => rows;
    public int OptimizerStateStride => 0;
    public int StatisticStride => 3;

    /// <summary>Rejects jobs CoCoA+ cannot run, naming the field (called by the job parser and at construction).</summary>
    public static void Validate(JobSpec job)
    {
        if (job.Model.Type != ModelTypes.Logistic && !(job.Model.Type == ModelTypes.Svm && job.Model.Loss == SvmLosses.SquaredHinge))
            throw new JobSpecException(job.Model.Type == ModelTypes.Svm ? "model.loss" : "model.type",
                job.Model.Type == ModelTypes.Svm
                    ? "\"cocoa\" steps the unregularised bias by its curvature, which the plain hinge has not: set model.loss to \"squared-hinge\", or train the hinge with \"admm\""
                    : $"\"cocoa\" trains the binary linear models (\"logistic\", or \"svm\" with \"squared-hinge\"), not '{job.Model.Type}'");
        if (!(job.Model.L2 > 0))
            throw new JobSpecException("model.l2", $"{job.Model.L2}: \"cocoa\" needs model.l2 > 0 (w = −(1/(λN)) Σ u_i x_i)");
        if (job.Model.L1 != 0)
            throw new JobSpecException("model.l1", $"{job.Model.L1}: \"cocoa\" solves the L2 problem only; leave model.l1 out or use \"admm\"");
        if (job.Communication.DropRate != 0)
            throw new JobSpecException("communication.dropRate", $"{job.Communication.DropRate}: a dropped Δw_k would leave w ≠ −(1/(λN)) Σ u_i x_i for good; \"cocoa\" needs dropRate 0");
        if (job.Workers.ToleratedFailurePercentage is > 0)
            throw new JobSpecException("workers.toleratedFailurePercentage", $"{job.Workers.ToleratedFailurePercentage}: a failed worker's round would lose its dual variables; \"cocoa\" needs 0");
    }

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        var n = globalModel.Length;
        var d = n - 1;
        var data = input.Data;
        var rows = data.Rows;
        if (statistic.Length != (long)n * StatisticStride) throw new ArgumentException($"the statistic needs {(long)n * StatisticStride} values, got {statistic.Length}");
        if (newState.Length != rows) throw new ArgumentException($"the dual state needs {rows} values, got {newState.Length}");
        StartDuals(input, globalModel[..d], previousState, newState);

        var stats = new MarginStatistics(n, hessian: false);
        stats.Add(input.Model, globalModel, data);
        var local = new double[d];
        for (var j = 0; j < d; j++) local[j] = globalModel[j];
        var cut = rows > 0 && Ascend(input, local, globalModel[d], newState);

        var inv = rows == 0 ? 0 : 1.0 / rows;
        for (var j = 0; j < d; j++)
        {
            statistic[3 * j] = (float)(local[j] - globalModel[j]);
            statistic[3 * j + 1] = (float)(stats.SlopePositive[j] * inv);
            statistic[3 * j + 2] = (float)(stats.SlopeNegative[j] * inv);
        }
        statistic[3 * d] = (float)(stats.CurvatureSum * inv);
        statistic[3 * d + 1] = (float)(stats.SlopePositive[d] * inv);
        statistic[3 * d + 2] = (float)(stats.SlopeNegative[d] * inv);
        return new WorkerResult(rows, rows == 0 ? 0 : stats.LossSum * inv, cut,
            new Conjugates(stats.ConjugatePositive * inv, stats.ConjugateNegative * inv));
    }

    // Round 0 starts every dual at 0, which matches the zero model the linear models start from; later rounds continue
    // from the state the worker wrote. A missing state later would break w = −(1/(λN)) Σ u_i x_i, so it is a fault.
    private void StartDuals(WorkerInput input, ReadOnlySpan<float> weights, ReadOnlySpan<float> previous, Span<float> duals)
    {
        if (previous.IsEmpty)
        {
            if (input.Round > 0)
                throw new InvalidOperationException($"cocoa: partition {input.Partition} has no dual variables from round {input.Round - 1}; its worker state object is missing");
            foreach (var v in weights)
                if (v != 0) throw new InvalidOperationException("cocoa starts from the zero model (w = −(1/(λN)) Σ u_i x_i with every u_i = 0)");
            duals.Clear();
            return;
        }
        if (previous.Length != duals.Length)
            throw new InvalidOperationException($"cocoa: partition {input.Partition} kept {previous.Length} dual variables but has {duals.Length} rows");
        previous.CopyTo(duals);
    }

    // localEpochs passes of SDCA in a permutation seeded by (seed, partition, round·epochs + e), so a rerun or a retried
    // worker takes the same steps. local = w + s_k; each step reads and writes only the row's non-zeros when sparse.
    private bool Ascend(WorkerInput input, double[] local, float bias, Span<float> duals)
    {
        var data = input.Data;
        var rows = data.Rows;
        var d = local.Length;
        var scale = 1 / (_lambda * rows);
        for (var e = 0; e < _epochs; e++)
        {
            var order = MiniBatches.Permutation(rows, input.Seed, input.Partition, input.Round * _epochs + e);
            for (var i = 0; i < rows; i++)
            {
                if (i % BudgetCheckRows == 0 && input.Budget.IsSpent && (e > 0 || i > 0)) return true;
                var r = order[i];
                var y = data.Labels[r];
                double z = bias, norm = 0;
                if (data.IsSparse)
                {
                    for (var k = data.RowOffsets![r]; k < data.RowOffsets[r + 1]; k++)
                    {
                        var v = data.Values![k];
                        z += local[data.Indices![k]] * v;
                        norm += (double)v * v;
                    }
                }
                else
                {
                    var x = data.Dense.AsSpan(r * d, d);
                    for (var j = 0; j < d; j++)
                    {
                        z += local[j] * x[j];
                        norm += (double)x[j] * x[j];
                    }
                }
                var u = DualCoordinateStep.Clamp(_loss, duals[r], y);
                var delta = DualCoordinateStep.Solve(_loss, u, y, z, norm * scale) + (u - duals[r]);
                if (delta == 0) continue;
                duals[r] = (float)(duals[r] + delta);
                var c = -delta * scale;
                if (data.IsSparse)
                {
                    for (var k = data.RowOffsets![r]; k < data.RowOffsets[r + 1]; k++) local[data.Indices![k]] += c * data.Values![k];
                }
                else
                {
                    var x = data.Dense.AsSpan(r * d, d);
                    for (var j = 0; j < d; j++) local[j] += c * x[j];
                }
            }
        }
        return false;
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel)
    {
        if (merged.Length != (long)model.Length * StatisticStride)
            throw new InvalidOperationException($"cocoa: {merged.Length} merged values for {model.Length} parameters (stride {StatisticStride})");
        for (var j = 0; j < model.Length; j++)
        {
            if (mask[j] != 0)
            {
                newModel[j] = model[j] + merged[3 * j];
                continue;
            }
            // The bias: a damped Newton step on the mean slope and curvature at the round's model.
            var slope = (double)merged[3 * j + 1] + merged[3 * j + 2];
            newModel[j] = (float)(model[j] - BiasStep * slope / (merged[3 * j] + _lambda));
        }
    }

    public DualityGap.Products? Certify(ReadOnlySpan<float> merged, ReadOnlySpan<float> mask)
    {
        var n = mask.Length;
        var p = new double[n];
        var q = new double[n];
        for (var j = 0; j < n; j++)
        {
            p[j] = merged[3 * j + 1];
            q[j] = merged[3 * j + 2];
        }
        return DualityGap.Products.Of(p, q, mask);
    }
}
