using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Core.Algorithms;

/// <summary>
/// A distributed training algorithm split the way the state machine runs it (LambdaML §3.2, with the
/// orchestration of StepML): every worker computes a <b>statistic</b> from the global model and its partition;
/// mergers form the weighted average of the statistics (weights = the workers' sample counts, summed in
/// partition order so the result does not depend on arrival order); <b>update</b> maps the old model and the
/// merged statistic to the new model <i>elementwise</i>, so each merger updates its own shard.
/// </summary>
public interface IAlgorithm
{
    string Type { get; }

    /// <summary>Length of the worker-local state kept between rounds (ADMM's x_i and u_i); 0 for none.</summary>
    int WorkerStateLength(int parameters);

    /// <summary>Values of optimizer state per model parameter (momentum: 1); 0 for none. Sharded like the model.</summary>
    int OptimizerStateStride { get; }

    /// <summary>Computes the worker's statistic (same length as the model). <paramref name="previousState"/> is empty
    /// in round 0. Returns the merge weight (samples used) and the mean data loss at the global model.</summary>
    WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic);

    /// <summary>Elementwise update of one shard: <paramref name="model"/>, <paramref name="merged"/>,
    /// <paramref name="mask"/> and the optimizer spans all cover the same parameter range.</summary>
    void Update(ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel);
}

public sealed record WorkerInput(IModel Model, Partition Data, int Partition, long Round, ulong Seed);

public readonly record struct WorkerResult(long Samples, double Loss);

public static class Algorithms
{
    public static IAlgorithm Create(JobSpec job) => job.Algorithm.Type switch
    {
        AlgorithmTypes.GaSgd => new GaSgd(job.Algorithm, job.Model.L2),
        AlgorithmTypes.MaSgd => new MaSgd(job.Algorithm, job.Model.L2),
        AlgorithmTypes.Admm => new Admm(job.Algorithm, job.Model.L2),
        _ => throw new JobSpecException("algorithm.type", $"'{job.Algorithm.Type}' is not an algorithm: use one of {string.Join(", ", AlgorithmTypes.All)}"),
    };
}
