using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// Gradient averaging (GA-SGD, LambdaML §3.2.1): each round every worker sends the mean gradient g_i of one
/// mini-batch at the global model w; the merged statistic is ḡ = Σ n_i g_i / Σ n_i and the update is the heavy-ball
/// step v ← μ·v + ḡ + λ·m∘w, w ← w − η·v (plain SGD when μ = 0).
/// </summary>
public sealed class GaSgd(AlgorithmSpec spec, double l2) : IAlgorithm
{
    private readonly float _eta = (float)spec.LearningRate;
    private readonly float _mu = (float)spec.Momentum;
    private readonly float _lambda = (float)l2;

    public string Type => AlgorithmTypes.GaSgd;
    public int WorkerStateLength(int parameters) => 0;
    public int OptimizerStateStride => spec.Momentum > 0 ? 1 : 0;

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
        for (var i = 0; i < model.Length; i++)
        {
            var g = merged[i] + _lambda * mask[i] * model[i];
            if (_mu > 0)
            {
                var v = _mu * (previousOptimizer.IsEmpty ? 0f : previousOptimizer[i]) + g;
                newOptimizer[i] = v;
                g = v;
            }
            newModel[i] = model[i] - _eta * g;
        }
    }
}
