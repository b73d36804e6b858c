using StepML.Core.Algorithms;
using StepML.Core.Communication;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Storage;
using StepML.Storage.Channels;

namespace StepML.Functions;

/// <summary>
/// Deletes what a round left behind once nothing can read it again, so a run's store grows by its models and records
/// only, not by its statistics (a MobileNet run wrote about 10 MB of statistics and state a round, 9.7 GB in 940
/// rounds, before this). Decide calls it after round <c>r</c>'s commit point with <c>r − 2</c>: round <c>r + 1</c> reads
/// round <c>r</c>'s optimizer and worker state, and a resume that finds round <c>r</c>'s record damaged falls back to
/// round <c>r − 1</c>'s record and reads round <c>r − 1</c>'s. Deleted, by their keys (no listing; S3 does not charge
/// DELETEs): the round's statistics and merged shards when the object store is the channel (Redis and DynamoDB hold
/// them otherwise, and Decide frees those a round sooner), its tree partials, its optimizer state and every worker's
/// state. Missing keys are not an error, so a retried Decide deletes again harmlessly.
/// </summary>
internal static class SpentRounds
{
    /// <summary>How many rounds before the one just committed are kept: its predecessor, for the fallback above.</summary>
    public const int Kept = 2;

    public static Task DeleteAsync(FunctionContext context, JobSpec job, IAlgorithm algorithm, ShardLayout layout, string runId, long committedRound,
        CancellationToken cancellationToken = default)
    {
        var round = committedRound - Kept;
        if (round < 0) return Task.CompletedTask;
        var partitions = job.Dataset.Partitions;
        var keys = new List<string>();
        if (!context.Channel(job).DeletesRounds) keys.AddRange(ChannelKeys.Round(runId, round, partitions, layout.Shards));
        if (job.Communication.Pattern == Patterns.Tree)
        {
            var levels = TreePlan.LevelSizes(partitions, job.Communication.FanIn);
            for (var level = 0; level < levels.Length; level++)
                keys.AddRange(Enumerable.Range(0, levels[level]).Select(group => RunLayout.TreePartial(runId, round, level, group)));
        }
        if (algorithm.OptimizerStateStride > 0)
            keys.AddRange(Enumerable.Range(0, layout.Shards).Select(shard => RunLayout.Optimizer(runId, round, shard)));
        if (algorithm.WorkerStateLength(1, 1) > 0)
            keys.AddRange(Enumerable.Range(0, partitions).Select(p => RunLayout.WorkerState(runId, p, round)));
        var store = context.Store;
        return Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            (key, ct) => new ValueTask(store.DeleteAsync(key, ct)));
    }
}
