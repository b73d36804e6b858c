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

    /// <summary>Length of the worker-local state kept between rounds, for a model of <paramref name="parameters"/> and a
    /// partition of <paramref name="rows"/>: sized by the model (ADMM's x_i and u_i) or by the rows (CoCoA+'s dual
    /// variables); 0 for none.</summary>
    int WorkerStateLength(int parameters, int rows);

    /// <summary>Values of optimizer state per model parameter (momentum: 1); 0 for none. Sharded like the model.</summary>
    int OptimizerStateStride { get; }

    /// <summary>How mergers combine the workers' statistics.</summary>
    MergeKind Merge => MergeKind.WeightedAverage;

    /// <summary>Statistic values per model parameter, interleaved per parameter (KMeans sends (sum, count) pairs: 2).</summary>
    int StatisticStride => 1;

    /// <summary>Computes the worker's statistic (<see cref="StatisticStride"/> × the model's length). <paramref name="previousState"/> is empty
    /// in round 0. Returns the merge weight (samples used) and the mean data loss at the global model.</summary>
    WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic);

    /// <summary>Elementwise update of one shard in round <paramref name="round"/>: <paramref name="model"/>,
    /// <paramref name="merged"/>, <paramref name="mask"/> and the optimizer spans all cover the same parameter range
    /// (merged and optimizer with their strides).</summary>
    void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel);

    /// <summary>For algorithms that certify their gap (<see cref="Training.DualityGap"/>): the slope products of one shard
    /// of the merged statistic, at the model the round started from. Null for the others. Decide adds the shards'
    /// products and the workers' <see cref="WorkerResult.Conjugates"/> into the round's certificate.</summary>
    Training.DualityGap.Products? Certify(ReadOnlySpan<float> merged, ReadOnlySpan<float> mask) => null;
}

public enum MergeKind
{
    /// <summary>Σ n_i s_i / Σ n_i with n_i the samples each worker reports.</summary>
    WeightedAverage,
    /// <summary>Σ s_i (sufficient statistics such as KMeans' per-cluster sums and counts).</summary>
    Sum,
}

public sealed record WorkerInput(IModel Model, Partition Data, int Partition, long Round, ulong Seed)
{
    /// <summary>When local work must stop (MA-SGD and ADMM local epochs); unlimited by default.</summary>
    public WorkBudget Budget { get; init; } = WorkBudget.Unlimited;

    /// <summary>The model as a differentiable one, for the gradient-based algorithms.</summary>
    public IDifferentiableModel Differentiable => Model as IDifferentiableModel
        ?? throw new JobSpecException("algorithm.type", $"model '{Model.Type}' has no gradient; train it with its own algorithm (kmeans: \"kmeans-em\")");
}

/// <summary>A worker's merge weight, its loss, and whether its <see cref="WorkBudget"/> ended its local work early.</summary>
/// <param name="Conjugates">For algorithms that certify their gap: the partition's mean conjugates of the positive and
/// the negative slopes (see <see cref="Training.DualityGap"/>), merged by sample weight.</param>
public readonly record struct WorkerResult(long Samples, double Loss, bool BudgetCut = false, Conjugates? Conjugates = null);

public readonly record struct Conjugates(double Positive, double Negative);

public static class Algorithms
{
    public static IAlgorithm Create(JobSpec job) => job.Algorithm.Type switch
    {
        AlgorithmTypes.GaSgd => new GaSgd(job.Algorithm, job.Model.L2, job.Model.L1, LearningRateSchedule.For(job)),
        AlgorithmTypes.MaSgd => new MaSgd(job.Algorithm, job.Model.L2, job.Model.L1, schedule: LearningRateSchedule.For(job)),
        AlgorithmTypes.Admm => new Admm(job.Algorithm, job.Model.L2, job.Model.L1, schedule: LearningRateSchedule.For(job)),
        AlgorithmTypes.KMeansEm => new KMeansEm(),
        AlgorithmTypes.Newton => new Newton(job),
        AlgorithmTypes.Cocoa => new Cocoa(job),
        _ => throw new JobSpecException("algorithm.type", $"'{job.Algorithm.Type}' is not an algorithm: use one of {string.Join(", ", AlgorithmTypes.All)}"),
    };
}
