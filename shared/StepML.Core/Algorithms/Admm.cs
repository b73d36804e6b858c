using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// Consensus ADMM (Boyd et al., "Distributed Optimization and Statistical Learning via ADMM", 2011, §7.1 and
/// §8.2) for min Σ_i α_i f_i(x_i) + (λ/2)‖m∘z‖² + λ₁‖m∘z‖₁ s.t. x_i = z, with α_i = n_i/N and penalties α_i·ρ, which gives
/// weights-free local problems:
/// <code>
///   u_i ← u_i + x_i − z                         (dual step for the previous round, done by the worker)
///   x_i ← argmin f_i(x) + (ρ/2)‖x − z + u_i‖²    (localEpochs of SGD, warm-started at the previous x_i)
///   statistic_i = x_i + u_i
///   z_j ← S_{λ₁m_j}(ρ·s̄_j) / (λ·m_j + ρ), s̄ = Σ α_i (x_i + u_i)   (elementwise: shards cleanly)
/// </code>
/// S is soft-thresholding (<see cref="Proximal"/>; Boyd et al. §6.3 for the lasso's z-update, here with the L2 term
/// too: the elastic net). With λ₁ = 0 it is the plain L2 z-update. The local x-problems never see λ₁.
/// The worker keeps (x_i, u_i) in its state object between rounds.
/// </summary>
public sealed class Admm(AlgorithmSpec spec, double l2, double l1 = 0, SparseUpdates sparseUpdates = SparseUpdates.Lazy, LearningRateSchedule? schedule = null) : IAlgorithm
{
    private readonly float _rho = (float)spec.Rho;
    private readonly float _lambda = (float)l2;
    private readonly float _l1 = (float)l1;

    public string Type => AlgorithmTypes.Admm;
    public int WorkerStateLength(int parameters, int rows) => 2 * parameters;
    public int OptimizerStateStride => 0;

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        var n = globalModel.Length;
        var x = newState[..n];
        var u = newState[n..];
        if (previousState.IsEmpty)
        {
            globalModel.CopyTo(x);
            u.Clear();
        }
        else
        {
            var xPrev = previousState[..n];
            var uPrev = previousState[n..];
            for (var i = 0; i < n; i++) u[i] = uPrev[i] + xPrev[i] - globalModel[i];
            xPrev.CopyTo(x);
        }
        var center = new float[n];
        for (var i = 0; i < n; i++) center[i] = globalModel[i] - u[i];
        // The loss users read is that of the global model z, not of the local x_i.
        var loss = input.Model.Evaluate(globalModel, input.Data).MeanLoss;
        var run = LocalSgd.Run(input, LocalSgd.AtRound(spec, schedule, input.Round), x, lambda: 0, l1: 0, center, _rho, lossAtStart: false, sparseUpdates);
        for (var i = 0; i < n; i++) statistic[i] = x[i] + u[i];
        // The weight stays n_i even when the budget cut the x-update short: it is the consensus weight α_i of the
        // objective, not an amount of work; a partial x-update is an inexact ADMM step, which still converges
        // under conditions (Boyd et al. 2011 discuss "inexact minimization"; not proven here for a time-cut SGD).
        return new WorkerResult(input.Data.Rows, loss, run.BudgetCut);
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel)
    {
        for (var i = 0; i < model.Length; i++)
            newModel[i] = Proximal.SoftThreshold(_rho * merged[i], _l1 * mask[i]) / (_lambda * mask[i] + _rho);
    }
}
