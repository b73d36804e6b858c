using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// Gradient averaging (GA-SGD, LambdaML §3.2.1): each round every worker sends the mean gradient g_i of one
/// mini-batch at the global model w; the merged statistic is ḡ = Σ n_i g_i / Σ n_i and the update is the heavy-ball
/// step v ← μ·v + ḡ + λ·m∘w, w ← w − η·v (plain SGD when μ = 0). With <c>optimizer: "adam"</c> (Kingma and Ba,
/// "Adam: a method for stochastic optimization", ICLR 2015, Algorithm 1) the state is (m, v) interleaved per
/// parameter and g = ḡ + λ·m∘w: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − η·m̂/(√v̂ + ε) with
/// m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) and t = round + 1, so the bias correction needs no extra state.
/// With λ₁ > 0 every step is a proximal one (ISTA; Parikh and Boyd 2014, §4.2): w ← S_{ηλ₁m}(w − η·g) without
/// momentum. With momentum μ the heavy ball moves to the iterates (iPiano; Ochs, Chen, Brox and Pock, "iPiano: inertial
/// proximal algorithm for nonconvex optimization", SIAM J. Imaging Sci. 2014): w ← S_{ηλ₁m}(w − η·g + μ·d), d ← w_new − w,
/// with d the optimizer state. Thresholding the gradient-momentum step instead, w ← S_{ηλ₁m}(w − η·v) with
/// v ← μv + g, has its fixed point where v = g/(1−μ), which is the L1 problem with λ₁·(1−μ): with μ = 0.9 it converged
/// to a penalty ten times too weak (10% above the reference objective after 150 rounds). Without λ₁ both forms are the
/// same iteration (d = −η·v); the λ₁ = 0 path keeps the v form. For Adam
/// the per-coordinate step a_j = η̂/(√v_j + ε) gives w_j ← S_{a_jλ₁m_j}(w_j − a_j·m_j) (a proximal step in Adam's
/// diagonal metric), so the L1 term never enters the averaged gradient and exact zeros appear.
/// </summary>
/// <param name="schedule">η per round (<see cref="LearningRateSchedule"/>); the spec's constant rate when absent.</param>
public sealed class GaSgd(AlgorithmSpec spec, double l2, double l1 = 0, LearningRateSchedule? schedule = null) : IAlgorithm
{
    private readonly LearningRateSchedule _schedule = schedule ?? LearningRateSchedule.Constant(spec.LearningRate);
    private readonly float _mu = (float)spec.Momentum;
    private readonly float _lambda = (float)l2;
    private readonly float _l1 = (float)l1;

    public string Type => AlgorithmTypes.GaSgd;
    public int WorkerStateLength(int parameters, int rows) => 0;
    private readonly bool _adam = spec.Optimizer == Optimizers.Adam;

    public int OptimizerStateStride => _adam ? 2 : spec.Momentum > 0 ? 1 : 0;

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        int[]? order = null;
        long epoch = -1;
        // Round r is step r of this partition's batch schedule.
        var batch = MiniBatches.Batch(input.Data, spec.BatchSize, input.Seed, input.Partition, input.Round, ref order, ref epoch);
        var loss = input.Differentiable.LossAndGradient(globalModel, input.Data, batch, statistic);
        return new WorkerResult(batch.Count, loss);
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel)
    {
        if (_adam)
        {
            AdamUpdate(round, model, merged, mask, previousOptimizer, newOptimizer, newModel);
            return;
        }
        var eta = (float)_schedule.At(round);
        if (_mu > 0 && _l1 > 0)
        {
            for (var i = 0; i < model.Length; i++)
            {
                var g = merged[i] + _lambda * mask[i] * model[i];
                var d = previousOptimizer.IsEmpty ? 0f : previousOptimizer[i];
                var w = Proximal.SoftThreshold(model[i] - eta * g + _mu * d, eta * _l1 * mask[i]);
                newOptimizer[i] = w - model[i];
                newModel[i] = w;
            }
            return;
        }
        for (var i = 0; i < model.Length; i++)
        {
            var g = merged[i] + _lambda * mask[i] * model[i];
            if (_mu > 0)
            {
                var v = _mu * (previousOptimizer.IsEmpty ? 0f : previousOptimizer[i]) + g;
                newOptimizer[i] = v;
                g = v;
            }
            newModel[i] = Proximal.SoftThreshold(model[i] - eta * g, eta * _l1 * mask[i]);
        }
    }

    private void AdamUpdate(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previous, Span<float> state, Span<float> newModel)
    {
        double beta1 = spec.Beta1, beta2 = spec.Beta2;
        var b1 = (float)beta1;
        var b2 = (float)beta2;
        var t = (double)round + 1;
        // Folding both corrections into the step: w ← w − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε·√(1−β₂ᵗ)).
        var correction2 = Math.Sqrt(1 - Math.Pow(beta2, t));
        var step = (float)(_schedule.At(round) * correction2 / (1 - Math.Pow(beta1, t)));
        var epsilon = (float)(spec.Epsilon * correction2);
        for (var i = 0; i < model.Length; i++)
        {
            var g = merged[i] + _lambda * mask[i] * model[i];
            var m = b1 * (previous.IsEmpty ? 0f : previous[2 * i]) + (1 - b1) * g;
            var v = b2 * (previous.IsEmpty ? 0f : previous[2 * i + 1]) + (1 - b2) * g * g;
            state[2 * i] = m;
            state[2 * i + 1] = v;
            var a = step / (MathF.Sqrt(v) + epsilon);
            newModel[i] = Proximal.SoftThreshold(model[i] - a * m, a * _l1 * mask[i]);
        }
    }
}
