using StepML.Core.Models;
using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// Model averaging (MA-SGD, LambdaML §3.2.1): each worker starts from the global model w, runs
/// <c>localEpochs</c> passes of mini-batch SGD on its partition, x ← x − η(∇f_i(x) + λ·m∘x), and sends x_i; the new
/// model is the sample-weighted average Σ n_i x_i / Σ n_i. With full batches and one epoch this is exactly one
/// gradient-descent step of the global objective.
/// With λ₁ > 0 the local steps are proximal, x ← S_{ηλ₁m}(x − η(∇f_i(x) + λ·m∘x)), and the merger averages the local
/// models as before. This is local proximal SGD: each worker runs ISTA on its own L1 problem, so with one full-batch
/// local step the round is exactly an averaged proximal step, and its fixed point is the L1 optimum's (the prox of
/// an average is not taken again, which would shrink twice). The average of sparse local models is sparse only
/// where every worker agrees on a zero, so MA-SGD's zero count is lower than GA-SGD's or ADMM's.
/// </summary>
/// <param name="sparseUpdates">On CSR partitions of the linear models, local steps touch only the batch's non-zeros
/// (<see cref="SparseLocalSgd"/>); <see cref="SparseUpdates.Dense"/> keeps the O(d) step for comparison.</param>
/// <param name="schedule">η per round for the local steps (<see cref="LearningRateSchedule"/>); constant when absent.</param>
public sealed class MaSgd(AlgorithmSpec spec, double l2, double l1 = 0, SparseUpdates sparseUpdates = SparseUpdates.Lazy, LearningRateSchedule? schedule = null) : IAlgorithm
{
    public string Type => AlgorithmTypes.MaSgd;
    public int WorkerStateLength(int parameters, int rows) => 0;
    public int OptimizerStateStride => 0;

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        globalModel.CopyTo(statistic);
        var run = LocalSgd.Run(input, LocalSgd.AtRound(spec, schedule, input.Round), statistic, (float)l2, (float)l1, proximalCenter: default, rho: 0, lossAtStart: true, sparseUpdates);
        // Cut short by the budget, a worker weighs what it used: the rows its steps visited (at most the partition).
        var samples = run.BudgetCut ? Math.Min(input.Data.Rows, run.SamplesVisited) : input.Data.Rows;
        return new WorkerResult(samples, run.Loss, run.BudgetCut);
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel) =>
        merged.CopyTo(newModel);
}

/// <summary>Local mini-batch SGD shared by MA-SGD and ADMM's x-update:
/// x ← S_{ηλ₁m}(x − η(∇f_i(x) + λ·m∘x + ρ(x − c))), where c is the proximal centre (z − u for ADMM) and S the
/// soft-thresholding of <see cref="Proximal"/> (λ₁ = 0 leaves the step unchanged).</summary>
internal static class LocalSgd
{
    /// <param name="Loss">The mean data loss at the starting point of x (one extra forward pass when batches are partial).</param>
    /// <param name="SamplesVisited">Rows over all steps taken (a row counts once per visit).</param>
    /// <param name="BudgetCut">The work budget stopped the steps before all localEpochs were done.</param>
    public readonly record struct Outcome(double Loss, long SamplesVisited, bool BudgetCut);

    /// <summary>The spec with round r's scheduled step size, which every local step of that round takes.</summary>
    public static AlgorithmSpec AtRound(AlgorithmSpec spec, LearningRateSchedule? schedule, long round) =>
        schedule is null || !spec.IsScheduled ? spec : spec with { LearningRate = schedule.At(round) };

    public static Outcome Run(WorkerInput input, AlgorithmSpec spec, Span<float> x, float lambda, float l1, ReadOnlySpan<float> proximalCenter, float rho, bool lossAtStart,
        SparseUpdates sparseUpdates = SparseUpdates.Lazy)
    {
        var model = input.Differentiable;
        var data = input.Data;
        var n = model.ParameterCount;
        var mask = new float[n];
        model.RegularizationMask(mask);
        var gradient = new float[n];
        var eta = (float)spec.LearningRate;
        double startLoss = double.NaN;
        var fullBatch = MiniBatches.IsFullBatch(spec.BatchSize, data.Rows);
        if (lossAtStart && !fullBatch)
            startLoss = model.Evaluate(x, data).MeanLoss;
        var steps = (long)spec.LocalEpochs * MiniBatches.BatchesPerEpoch(spec.BatchSize, data.Rows);
        // Local steps of round r continue the schedule where round r-1 stopped, so batches cycle through the data.
        var firstStep = input.Round * steps;
        if (sparseUpdates == SparseUpdates.Lazy && l1 == 0 && SparseLocalSgd.Applies(input.Model, data, mask, spec, lambda, rho))
        {
            var lazy = SparseLocalSgd.Run(input, spec, x, lambda, proximalCenter, rho, steps, firstStep);
            return lazy with { Loss = fullBatch ? lazy.Loss : startLoss };
        }
        int[]? order = null;
        long orderEpoch = -1;
        long visited = 0;
        var hasState = ModelState.Any(model, out var state);
        var budget = input.Budget;
        for (long s = 0; s < steps; s++)
        {
            // At least one step, so every worker contributes; the budget is read between steps only.
            if (s > 0 && budget.IsSpent) return new Outcome(startLoss, visited, BudgetCut: true);
            var batch = MiniBatches.Batch(data, spec.BatchSize, input.Seed, input.Partition, firstStep + s, ref order, ref orderEpoch);
            visited += batch.Count;
            var loss = model.LossAndGradient(x, data, batch, gradient);
            if (s == 0 && fullBatch) startLoss = loss;
            for (var i = 0; i < n; i++)
            {
                if (hasState && state[i] != 0f)
                {
                    x[i] = gradient[i]; // state (batch-norm moments): the model gives its new value, not a gradient
                    continue;
                }
                var g = gradient[i] + lambda * mask[i] * x[i];
                if (rho > 0) g += rho * (x[i] - proximalCenter[i]);
                x[i] = Proximal.SoftThreshold(x[i] - eta * g, eta * l1 * mask[i]);
            }
        }
        return new Outcome(startLoss, visited, BudgetCut: false);
    }
}
