using System.Text.Json.Serialization;
using StepML.Core.Cost;

namespace StepML.Functions;

/// <summary>
/// The small state the training loop carries between states (never tensors: keys are derived from
/// <see cref="RunId"/> and <see cref="Round"/>). Prepare creates it, Decide returns the next one.
/// </summary>
public sealed record RunState
{
    public string RunId { get; init; } = "";
    /// <summary>The round about to run; the global model it reads is model/&lt;Round&gt;.tensor.</summary>
    public long Round { get; init; }
    public int[] Partitions { get; init; } = [];
    public int[] Shards { get; init; } = [];
    public int MaxConcurrency { get; init; }
    public double ToleratedFailurePercentage { get; init; }
    public long StartedAtMs { get; init; }
    public int RoundsThisExecution { get; init; }
    public int RoundsPerExecution { get; init; }
    public double? PreviousLoss { get; init; }
    /// <summary>Set by Decide: the validation loss and metric (accuracy, or inertia = mean squared distance) of the
    /// model the round started from, for progress displays; null without validation rows.</summary>
    public double? ValidationLoss { get; init; }
    public double? ValidationMetric { get; init; }
    /// <summary>The model's <see cref="Core.Models.IModel.MetricName"/>.</summary>
    public string? MetricName { get; init; }
    public double? FirstLoss { get; init; }
    /// <summary>Set by Decide for algorithms that certify their gap: the certified relative gap (P − D)/D of the model
    /// the round started from, an upper bound on (P − P*)/P*.</summary>
    public double? RelativeGap { get; init; }
    public int StallRounds { get; init; }
    public double CostUsd { get; init; }
    /// <summary>What the run has used so far of each billed resource (Prepare, the rounds; Finalize adds its own):
    /// <see cref="CostUsd"/> is its price. Carried across continue-as-new and resume.</summary>
    public ResourceUsage? Usage { get; init; }
    /// <summary>Set by Decide: the run's elapsed seconds when the last round ended (a round's wall time is the
    /// difference; the Redis channel is billed for it).</summary>
    public double PreviousElapsedSeconds { get; init; }
    /// <summary>Set by Decide: continue, stop or continue-as-new (the Choice state reads it).</summary>
    public string? Action { get; init; }
    public string? Reason { get; init; }
    /// <summary>Set by Prepare when the triggering object is not something to train on (a sidecar job file).</summary>
    public bool? Skip { get; init; }
    /// <summary>Set by Prepare when the partition set must be made by the Partition and Assemble Maps; cleared by Commit.</summary>
    public PartitioningState? Partitioning { get; init; }
    /// <summary>The digest of the run's partition set (partitions/&lt;digest&gt;/).</summary>
    public string? PartitionSet { get; init; }
    /// <summary>True when an existing complete partition set was reused (no Partition task ran).</summary>
    public bool? PartitionSetReused { get; init; }
    /// <summary>The execution that owns the run (its ARN; see the run ledger). Continue-as-new carries it to the next
    /// execution, which takes the run over from exactly this owner.</summary>
    public string? Owner { get; init; }
    /// <summary>stop.maxRounds raised by a resume (<c>stepml resume RUN --max-rounds N</c>); job.json stays as
    /// written.</summary>
    public int? MaxRounds { get; init; }
    /// <summary>Set by Decide: workers of the round just decided that failed and were tolerated (null: none).</summary>
    public int? FailedWorkers { get; init; }
    /// <summary>Set by Decide: the partitions whose worker failed (tolerated) in any round so far, ascending.</summary>
    public int[]? FailedPartitions { get; init; }
    /// <summary>Set by Decide: tolerated worker failures summed over the run's rounds.</summary>
    public int TotalFailedWorkers { get; init; }
    /// <summary>Outputs of the Workers Map (ResultPath $.workers); a failed, tolerated iteration leaves an error object.</summary>
    public WorkerOutput[]? Workers { get; init; }
    /// <summary>Outputs of the Merge Map (ResultPath $.merged); with the tree pattern, those of the last level run.</summary>
    public MergeOutput[]? Merged { get; init; }
    /// <summary>Set by Prepare for communication.pattern "tree": the groups of every level, which the ASL's level
    /// loop maps over one level at a time.</summary>
    public TreeLevels? Tree { get; init; }
    /// <summary>The tree level the loop is at (the ASL writes it; Decide clears it).</summary>
    public TreeCursor? TreeLevel { get; init; }
    /// <summary>Set by Prepare for communication.synchronization "async": the ASL's AsyncWorkers branch runs instead of
    /// the rounds.</summary>
    public bool? Async { get; init; }
    /// <summary>Set by Decide after an asynchronous run: the updates applied to the model (the register's version − 1),
    /// which equals the workers' steps summed.</summary>
    public long? AppliedUpdates { get; init; }
}

/// <summary>Tree aggregation's levels: <see cref="Levels"/>[l] lists the groups (merger indices) of level l, and
/// <see cref="Last"/> is the index of the root level.</summary>
public sealed record TreeLevels
{
    public int[][] Levels { get; init; } = [];
    public int Last { get; init; }
}

/// <summary>The level loop's position: the level index and the groups its Map iterates over.</summary>
public sealed record TreeCursor
{
    public int Index { get; init; }
    public int[]? Groups { get; init; }
}

/// <param name="Async">communication.synchronization "async": run <see cref="AsyncWorkerStep"/>, which continues from
/// <paramref name="Steps"/> updates already applied by this worker.</param>
public sealed record WorkerInput(string RunId, long Round, int Partition, bool? Async = null, long? Steps = null, long? Conflicts = null);

/// <summary>A worker's scalars. <see cref="Partition"/> is null in the slot of a failed, tolerated iteration
/// (whose object carries Error and Cause instead).</summary>
public sealed record WorkerOutput
{
    public int? Partition { get; init; }
    public long Samples { get; init; }
    public double Loss { get; init; }
    public double Seconds { get; init; }
    /// <summary>True when the round budget ended local work early (the round then depends on timing); absent otherwise.</summary>
    public bool? BudgetCut { get; init; }
    /// <summary>Algorithms that certify their gap: the partition's mean conjugates (<see cref="Core.Training.DualityGap"/>).</summary>
    public double? ConjugatePositive { get; init; }
    public double? ConjugateNegative { get; init; }
    /// <summary>Asynchronous workers: the updates this worker has applied so far (over all its invocations), whether it
    /// has applied all of them (the ASL's loop ends), and how often another worker's update came first (the update was
    /// then applied again to the newer model).</summary>
    public long? Steps { get; init; }
    public bool? Done { get; init; }
    public long? Conflicts { get; init; }
    public string? Error { get; init; }
}

/// <summary>A merger's input: a shard (all-reduce, scatter-reduce), or with <see cref="Level"/> set, group
/// <see cref="Group"/> of that tree level (communication.pattern "tree"; <see cref="Shard"/> is then 0).</summary>
public sealed record MergeInput(string RunId, long Round, int Shard, WorkerOutput[] Workers, int? Level = null, int? Group = null);

public sealed record MergeOutput
{
    /// <summary>The shard, or the group of a tree level.</summary>
    public int Shard { get; init; }
    /// <summary>The tree level; null for all-reduce and scatter-reduce mergers.</summary>
    public int? Level { get; init; }
    /// <summary>Statistics merged (those that arrived).</summary>
    public int Contributors { get; init; }
    /// <summary>Statistics lost to the simulated unreliable network (communication.dropRate).</summary>
    public int Dropped { get; init; }
    public double Seconds { get; init; }
    /// <summary>Algorithms that certify their gap: the shard's dual slope products (<see cref="Core.Training.DualityGap.Products"/>).</summary>
    public double[]? Dual { get; init; }
}

public sealed record FinalSummary
{
    public string RunId { get; init; } = "";
    public long Rounds { get; init; }
    public string ModelKey { get; init; } = "";
    public double TrainLoss { get; init; }
    /// <summary>Training accuracy; NaN for models whose metric is not accuracy (see <see cref="Metric"/>).</summary>
    public double TrainAccuracy { get; init; }
    public double? ValidationLoss { get; init; }
    public double? ValidationAccuracy { get; init; }
    /// <summary>The model's metric ("accuracy", or "inertia" = mean squared distance to the nearest centroid).</summary>
    public string Metric { get; init; } = "accuracy";
    public double TrainMetric { get; init; }
    public double? ValidationMetric { get; init; }
    /// <summary>On dataset.testPath, when the job has a test split.</summary>
    public double? TestLoss { get; init; }
    public double? TestAccuracy { get; init; }
    public string StopReason { get; init; } = "";
    /// <summary>The run's cost: <see cref="Cost"/>'s total.</summary>
    public double CostUsd { get; init; }
    /// <summary>The cost by resource (Lambda per function, S3 by kind, Step Functions, the channel).</summary>
    public CostBreakdown? Cost { get; init; }
    /// <summary>What the cost was priced from.</summary>
    public ResourceUsage? Usage { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>What the run could not include (an unreadable per-round record), named; null when nothing.</summary>
    public string[]? Warnings { get; init; }
    /// <summary>Tolerated worker failures over all rounds (workers.toleratedFailurePercentage).</summary>
    public int FailedWorkers { get; init; }
    /// <summary>Partitions whose worker failed in some round (tolerated); null when none did.</summary>
    public int[]? FailedPartitions { get; init; }
    /// <summary>Training partitions Finalize could not evaluate and skipped, within the same tolerance; null when none.
    /// The training loss and metric are then over the other partitions.</summary>
    public int[]? UnevaluatedPartitions { get; init; }
    /// <summary>Binary linear models: the certified gap of the final model, P − D ≥ P − P* (<see cref="Core.Training.DualityGap"/>),
    /// and relative to the dual bound (null while D ≤ 0).</summary>
    public double? Gap { get; init; }
    public double? RelativeGap { get; init; }
    /// <summary>Sparsity of the final model: regularised parameters (biases excluded) that are exactly zero, of
    /// <see cref="RegularizedWeights"/>. An L1 penalty (model.l1) is what makes it non-zero.</summary>
    public long ZeroWeights { get; init; }
    public long RegularizedWeights { get; init; }
}

/// <summary>One line of runs/&lt;runId&gt;/metrics.jsonl.</summary>
public sealed record RoundMetrics
{
    public long Round { get; init; }
    public double TrainLoss { get; init; }
    public double? ValidationLoss { get; init; }
    public double? ValidationAccuracy { get; init; }
    /// <summary>The model's metric name and its validation value (equal to <see cref="ValidationAccuracy"/> for classifiers).</summary>
    public string Metric { get; init; } = "accuracy";
    public double? ValidationMetric { get; init; }
    public long Samples { get; init; }
    public int Workers { get; init; }
    public int FailedWorkers { get; init; }
    /// <summary>Worker → merger statistics merged this round, summed over mergers, and those dropped
    /// (communication.dropRate).</summary>
    public int MergedStatistics { get; init; }
    public int DroppedStatistics { get; init; }
    public double WorkerSeconds { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>The run's cost up to and including this round.</summary>
    public double CostUsd { get; init; }
    /// <summary>What this round used (its functions' measured seconds, its requests and transitions); null in
    /// records written before usage was recorded.</summary>
    public ResourceUsage? Usage { get; init; }
    public string Action { get; init; } = "";
    public string? Reason { get; init; }
    /// <summary>Algorithms that certify their gap: P − D and (P − D)/D of the round's model.</summary>
    public double? Gap { get; init; }
    public double? RelativeGap { get; init; }
}

/// <summary>runs/&lt;runId&gt;/records/&lt;round&gt;.json: what Decide concluded from one round, and the state the
/// next round starts from (what a resume continues from). metrics.jsonl and the report are derived from these.</summary>
public sealed record RoundRecord(RoundMetrics Metrics, RunState Next);

public sealed record FailureRecord(string? RunId, string Error, string Cause, DateTimeOffset Time);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(RunState))]
[JsonSerializable(typeof(WorkerInput))]
[JsonSerializable(typeof(WorkerOutput))]
[JsonSerializable(typeof(MergeInput))]
[JsonSerializable(typeof(MergeOutput))]
[JsonSerializable(typeof(FinalSummary))]
[JsonSerializable(typeof(RoundMetrics))]
[JsonSerializable(typeof(FailureRecord))]
[JsonSerializable(typeof(PartitionInput))]
[JsonSerializable(typeof(PartitionOutput))]
[JsonSerializable(typeof(PartitionPlan))]
[JsonSerializable(typeof(RangeRecord))]
[JsonSerializable(typeof(PartitionSetManifest))]
[JsonSerializable(typeof(DatasetRecord))]
[JsonSerializable(typeof(PendingRun))]
[JsonSerializable(typeof(RoundRecord))]
[JsonSerializable(typeof(CostBreakdown))]
[JsonSerializable(typeof(ResourceUsage))]
public sealed partial class ContractJson : JsonSerializerContext;
