using StepML.Core.Algorithms;
using StepML.Core.Communication;
using StepML.Core.Jobs;

namespace StepML.Core.Cost;

/// <summary>The shape of one training round: what decides how many functions, requests and transitions it takes.</summary>
/// <param name="TreeLevels">Mergers per level for the tree pattern, null otherwise.</param>
/// <param name="StatisticBytes">One worker's statistic (the model's parameters × the algorithm's stride × 4 bytes).</param>
public sealed record RoundShape(int Partitions, int Shards, IReadOnlyList<int>? TreeLevels, bool WorkerState, bool OptimizerState,
    string Channel, long StatisticBytes, long ModelBytes)
{
    public static RoundShape Of(JobSpec job, long parameters, IAlgorithm algorithm) => new(
        job.Dataset.Partitions,
        job.Communication.Pattern == Patterns.Tree ? 1 : job.Communication.Shards,
        job.Communication.Pattern == Patterns.Tree ? TreePlan.LevelSizes(job.Dataset.Partitions, job.Communication.FanIn) : null,
        algorithm.WorkerStateLength((int)Math.Min(parameters, int.MaxValue), rows: 1) > 0,
        algorithm.OptimizerStateStride > 0,
        job.Communication.Channel,
        parameters * algorithm.StatisticStride * sizeof(float),
        parameters * sizeof(float));

    /// <summary>Merge invocations in a round: one per shard, or one per tree merger.</summary>
    public int Mergers => TreeLevels?.Sum() ?? Shards;
}

/// <summary>
/// What one round of train.asl.json uses, counted from the states it enters and the requests each step makes. Decide
/// records it per round (so final.json and the report add up the records), and <c>stepml plan</c> prices predicted
/// rounds with the same function, so a plan and a run's bill are computed alike.
/// </summary>
public static class RoundUsage
{
    /// <summary>Standard transitions of one round. All-reduce and scatter-reduce: Workers, one per EXPRESS child the
    /// Distributed Map starts, Aggregation?, Merge, one MergeShard per shard (inline Map iterations themselves are
    /// free), Decide, Converged?: 5 + P + S. Tree: Workers, P children, Aggregation?, TreeStart, per level TreeLevel,
    /// TreeMerge, one MergeGroup per merger and TreeDone?, TreeNext between levels, Decide, Converged?.</summary>
    public static long Transitions(RoundShape shape) => shape.TreeLevels is { } levels
        ? 1 + shape.Partitions + 1 + 1 + levels.Sum(size => 3 + size) + (levels.Count - 1) + 2
        : 5 + shape.Partitions + shape.Shards;

    /// <summary>Prepare, Skip?, Partitioned? and Synchronization? (each execution starts with them, a continued one
    /// too; Synchronization? follows Commit when the set is partitioned first).</summary>
    public const int StartTransitions = 4;
    /// <summary>ContinueAsNew and Continued, at the end of an execution that continues as a new one.</summary>
    public const int ContinueTransitions = 2;
    /// <summary>Finalize.</summary>
    public const int FinishTransitions = 1;

    /// <summary>Partition, one per range child (EXPRESS), Summarize, Assemble, two per output child (a STANDARD child
    /// is started, and enters AssembleOutput), Commit.</summary>
    public static long PartitioningTransitions(int ranges, int outputs) => 1 + ranges + 1 + 1 + 2L * outputs + 1;

    /// <summary>One round's usage.</summary>
    /// <param name="workerSeconds">Each worker's measured seconds (its EXPRESS child lasts at least as long).</param>
    /// <param name="mergeSeconds">Each merger's measured seconds (tree: the state keeps the last level's only, so lower levels count as invocations without duration).</param>
    /// <param name="roundSeconds">The round's wall time (the Redis channel is billed for the data it holds meanwhile).</param>
    /// <param name="firstRound">Workers read their partitions in the first round; later rounds find them cached.</param>
    public static ResourceUsage Of(RoundShape shape, DeployedMemory memory, IReadOnlyList<double> workerSeconds, IReadOnlyList<double> mergeSeconds,
        double decideSeconds, double roundSeconds, bool firstRound, bool continueAsNew)
    {
        var p = shape.Partitions;
        long express = workerSeconds.Count;
        var expressGbSeconds = workerSeconds.Sum(s => Pricing.ExpressGbSeconds(s));

        // Store requests (S3 whatever the channel): workers read the model, and read and write their state; mergers read
        // their model shard and optimizer state and write the optimizer state; Decide writes the model, the round's
        // record, and reads and rewrites metrics.jsonl.
        long gets = p + (firstRound ? p : 0) + (shape.WorkerState ? p : 0) + shape.Shards * (shape.OptimizerState ? 2L : 1L) + 1;
        long puts = (shape.WorkerState ? p : 0) + (shape.OptimizerState ? shape.Shards : 0) + 3;

        // Channel requests: each worker writes its statistic; all-reduce and scatter-reduce mergers read one range per
        // worker and write their shard; tree mergers read their children and write one result; Decide reads the result.
        long channelWrites, channelReads;
        if (shape.TreeLevels is { } levels)
        {
            channelWrites = p + levels.Sum();
            channelReads = p + levels.Take(levels.Count - 1).Sum() + 1;
        }
        else
        {
            channelWrites = p + shape.Shards;
            channelReads = (long)p * shape.Shards + shape.Shards;
        }
        var statistics = (long)p * shape.StatisticBytes;
        long channelBytes = 2 * statistics + 2 * shape.ModelBytes;

        var usage = new ResourceUsage
        {
            Functions = new(StringComparer.Ordinal)
            {
                [DeployedMemory.Worker] = new(workerSeconds.Count, workerSeconds.Sum(), memory[DeployedMemory.Worker]),
                [DeployedMemory.Merge] = new(shape.Mergers, mergeSeconds.Sum(), memory[DeployedMemory.Merge]),
                [DeployedMemory.Decide] = new(1, decideSeconds, memory[DeployedMemory.Decide]),
            },
            Transitions = Transitions(shape) + (continueAsNew ? ContinueTransitions : 0),
            ExpressExecutions = express,
            ExpressGbSeconds = expressGbSeconds,
        };
        return shape.Channel switch
        {
            "dynamodb" => usage with
            {
                S3Gets = gets, S3Puts = puts, ChannelReads = channelReads, ChannelWrites = channelWrites, ChannelBytes = channelBytes,
                // On-demand: a write unit per KB written, a strongly consistent read unit per 4 KB read, per item.
                ChannelWriteUnits = channelWrites + (statistics + shape.ModelBytes) / 1024,
                ChannelReadUnits = channelReads + (statistics + shape.ModelBytes) / 4096,
            },
            "redis" => usage with
            {
                S3Gets = gets, S3Puts = puts, ChannelReads = channelReads, ChannelWrites = channelWrites, ChannelBytes = channelBytes,
                ChannelGbHours = Math.Max(Pricing.ValkeyMinimumGb, (statistics + shape.ModelBytes) / 1e9) * Math.Max(roundSeconds, 0) / 3600,
            },
            _ => usage with { S3Gets = gets + channelReads, S3Puts = puts + channelWrites },
        };
    }
}
