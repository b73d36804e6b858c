using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Deletes what a round left behind once nothing can read it again, so a run's store grows by its models and records
/// only, not by its statistics (a MobileNet run wrote about 10 MB of statistics and state a round, 9.7 GB in 940
/// rounds, before this). Decide calls it after round <c>r</c>'s commit point with <c>r − 2</c>: round <c>r + 1</c> reads
/// round <c>r</c>'s optimizer and worker state, and a resume that finds round <c>r</c>'s record damaged falls back to
/// round <c>r − 1</c>'s record and reads round <c>r − 1</c>'s. Deleted: the round's statistics, merged shards and tree
/// partials (the object store's; Redis and DynamoDB channels hold statistics and merged shards, and Decide frees those a
/// round sooner), its optimizer state and every worker's state. Missing keys are not
/// an error, so a retried Decide deletes again harmlessly.
/// </summary>
internal static class SpentRounds
{
    /// <summary>How many rounds before the one just committed are kept: its predecessor, for the fallback above.</summary>
    public const int Kept = 2;

    public static async Task DeleteAsync(FunctionContext context, JobSpec job, IAlgorithm algorithm, string runId, long committedRound, CancellationToken cancellationToken = default)
    {
        var round = committedRound - Kept;
        if (round < 0) return;
        var store = context.Store;
        var keys = (await store.ListAsync(RunLayout.Rounds(runId) + $"{round}/", cancellationToken).ConfigureAwait(false)).Select(o => o.Key).ToList();
        if (algorithm.WorkerStateLength(1, 1) > 0)
            keys.AddRange(Enumerable.Range(0, job.Dataset.Partitions).Select(p => RunLayout.WorkerState(runId, p, round)));
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            (key, ct) => new ValueTask(store.DeleteAsync(key, ct))).ConfigureAwait(false);
    }
}
