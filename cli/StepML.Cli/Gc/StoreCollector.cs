using System.Text.Json;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Gc;

/// <summary>One object <c>stepml gc</c> deletes, and why.</summary>
public sealed record Garbage(string Key, long Size, string Reason);

/// <summary>
/// Finds what no run needs (issue 8 §2): partition sets no run references (a complete set nobody trains on, and
/// the scratch pieces of complete sets), and the round statistics of finished runs. Kept: every run's job, records,
/// models, metrics and reports; the optimizer and worker state of a finished run's last round (what a resume that
/// raises stop.maxRounds reads); everything of a run that has not finished (it may be running, or be resumed); and
/// incomplete partition sets that a run is waiting for (a partitioning may be in progress).
/// </summary>
public static class StoreCollector
{
    public static async Task<IReadOnlyList<Garbage>> FindAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        var garbage = new List<Garbage>();
        var runs = await store.ListAsync(RunLayout.RunsPrefix, cancellationToken).ConfigureAwait(false);
        var byRun = runs.GroupBy(o => o.Key.Split('/')[1]).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var keepEverySet = false;
        foreach (var (runId, objects) in byRun)
        {
            var keys = objects.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
            if (keys.Contains(RunLayout.DatasetRecord(runId)))
            {
                try
                {
                    referenced.Add(JsonSerializer.Deserialize(await store.GetAsync(RunLayout.DatasetRecord(runId), cancellationToken).ConfigureAwait(false),
                        ContractJson.Default.DatasetRecord)!.PartitionSet);
                }
                catch (JsonException)
                {
                    // A damaged record cannot say which set the run uses: keep every set rather than guess.
                    keepEverySet = true;
                }
            }
            if (keys.Contains(RunLayout.FinalModel(runId)))
                garbage.AddRange(RoundScratch(runId, objects));
        }

        var sets = await store.ListAsync(RunLayout.PartitionSetsPrefix, cancellationToken).ConfigureAwait(false);
        foreach (var set in sets.GroupBy(o => RunLayout.DigestOf(o.Key)))
        {
            if (set.Key is not { } digest) continue;
            var complete = set.Any(o => o.Key == RunLayout.SetManifest(digest));
            if (!complete || keepEverySet) continue;
            if (!referenced.Contains(digest))
            {
                // The manifest last, so an interrupted gc never leaves a "complete" set with parts missing.
                garbage.AddRange(set.Where(o => o.Key != RunLayout.SetManifest(digest)).Select(o => new Garbage(o.Key, o.Size, "partition set no run references")));
                garbage.AddRange(set.Where(o => o.Key == RunLayout.SetManifest(digest)).Select(o => new Garbage(o.Key, o.Size, "partition set no run references")));
            }
            else
            {
                garbage.AddRange(set.Where(o => IsScratch(o.Key, digest)).Select(o => new Garbage(o.Key, o.Size, "scratch of a complete partition set")));
            }
        }
        return garbage;
    }

    public static async Task DeleteAsync(IObjectStore store, IEnumerable<Garbage> garbage, CancellationToken cancellationToken = default)
    {
        foreach (var item in garbage) await store.DeleteAsync(item.Key, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsScratch(string key, string digest) =>
        key.StartsWith(RunLayout.SetPieces(digest), StringComparison.Ordinal)
        || key.StartsWith(RunLayout.SetRanges(digest), StringComparison.Ordinal)
        || key.StartsWith(RunLayout.PartitionSet(digest) + "/pending/", StringComparison.Ordinal)
        || key == RunLayout.SetPlan(digest) || key == RunLayout.SetSummary(digest);

    // rounds/<r>/stats and merged are statistics; optimizer and workers/<p>/<r> are state, of which only the last
    // round's is ever read again.
    private static IEnumerable<Garbage> RoundScratch(string runId, List<ObjectInfo> objects)
    {
        var rounds = RunLayout.Rounds(runId);
        var workers = RunLayout.Root(runId) + "/workers/";
        var lastRound = objects.Where(o => o.Key.StartsWith(rounds, StringComparison.Ordinal))
            .Select(o => long.TryParse(o.Key[rounds.Length..].Split('/')[0], out var r) ? r : -1).DefaultIfEmpty(-1).Max();
        var lastState = objects.Where(o => o.Key.StartsWith(workers, StringComparison.Ordinal))
            .GroupBy(o => o.Key[workers.Length..].Split('/')[0])
            .ToDictionary(g => g.Key, g => g.Max(o => RoundOf(o.Key)), StringComparer.Ordinal);
        foreach (var o in objects)
        {
            if (o.Key.StartsWith(rounds, StringComparison.Ordinal))
            {
                var parts = o.Key[rounds.Length..].Split('/');
                var keep = parts.Length > 1 && parts[1] == "optimizer" && long.TryParse(parts[0], out var r) && r == lastRound;
                if (!keep) yield return new Garbage(o.Key, o.Size, "round statistics of a finished run");
            }
            else if (o.Key.StartsWith(workers, StringComparison.Ordinal) && RoundOf(o.Key) < lastState[o.Key[workers.Length..].Split('/')[0]])
            {
                yield return new Garbage(o.Key, o.Size, "worker state of an earlier round of a finished run");
            }
        }
    }

    private static long RoundOf(string key) =>
        long.TryParse(Path.GetFileNameWithoutExtension(key[(key.LastIndexOf('/') + 1)..]), out var round) ? round : long.MaxValue;
}
