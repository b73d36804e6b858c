namespace StepML.Core.Algorithms;

/// <summary>
/// One worker's update in asynchronous training (LambdaML §3.3, S-ASP): the worker reads the current model w_s (the
/// model followed by the optimizer state, as one vector), computes its contribution from its partition alone, and the
/// update is applied to whatever version w_t is current when it is written (t ≥ s: other workers may have updated the
/// model in between, so the contribution is stale by t − s updates, as in asynchronous SGD).
/// <list type="bullet">
/// <item>GA-SGD: the contribution is the mini-batch gradient g at w_s; the update is the algorithm's own step
/// (<see cref="IAlgorithm.Update"/>, with momentum or Adam state and the proximal L1 step) applied to w_t with g,
/// counted as update t of the run (Adam's bias correction uses it).</item>
/// <item>MA-SGD: the contribution is the worker's local model x after its local epochs from w_s; the update adds its
/// share of the progress, w ← w_t + (x − w_s)/P with P partitions, so that P updates from the same start equal one
/// synchronous round's average.</item>
/// </list>
/// Algorithms whose update needs every worker's statistic at once (ADMM, Newton, KMeans-EM) are rejected at job
/// validation (communication.synchronization).
/// </summary>
public static class AsyncUpdate
{
    public static bool Supports(IAlgorithm algorithm) => algorithm is GaSgd or MaSgd;

    /// <summary>Computes the worker's contribution at <paramref name="start"/> (the model part of the version read).</summary>
    public static WorkerResult Contribute(IAlgorithm algorithm, WorkerInput input, ReadOnlySpan<float> start, Span<float> contribution)
    {
        if (!Supports(algorithm))
            throw new NotSupportedException($"'{algorithm.Type}' has no asynchronous update; use \"ga-sgd\" or \"ma-sgd\"");
        return algorithm.Work(input, start, [], [], contribution);
    }

    /// <summary>Fills <paramref name="next"/> (model then optimizer state) from <paramref name="current"/> and the contribution.</summary>
    /// <param name="update">The number of updates applied before this one (the register's version − 1).</param>
    /// <param name="start">The model the contribution was computed at (MA-SGD's progress is measured from it).</param>
    public static void Apply(IAlgorithm algorithm, long update, int parameters, int partitions, ReadOnlySpan<float> contribution, ReadOnlySpan<float> start,
        ReadOnlySpan<float> mask, ReadOnlySpan<float> current, Span<float> next)
    {
        if (current.Length != next.Length || current.Length != parameters * (1 + algorithm.OptimizerStateStride))
            throw new ArgumentException($"an asynchronous model of {parameters} parameters holds {parameters * (1 + algorithm.OptimizerStateStride)} values; got {current.Length} and {next.Length}");
        var model = current[..parameters];
        if (algorithm is MaSgd)
        {
            var share = 1f / partitions;
            for (var i = 0; i < parameters; i++)
                next[i] = model[i] + (contribution[i] - start[i]) * share;
            return;
        }
        algorithm.Update(update, model, contribution, mask, current[parameters..], next[parameters..], next[..parameters]);
    }
}
