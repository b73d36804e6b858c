using System.Globalization;
using System.Text;
using System.Text.Json;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// The per-round records (runs/&lt;runId&gt;/records/&lt;round&gt;.json, one object per round, so a torn or lost write
/// costs at most the round in flight) and metrics.jsonl derived from them. A damaged record or metrics file is
/// named and skipped, never fatal: metrics.jsonl is rebuilt from the records, and a resume continues from the last
/// readable record.
/// </summary>
internal static class RunRecords
{
    public static Task WriteAsync(IObjectStore store, string runId, RoundRecord record) =>
        store.PutAsync(RunLayout.Record(runId, record.Metrics.Round), JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Default.RoundRecord));

    /// <summary>The rounds that have a record, highest first.</summary>
    public static async Task<List<long>> RoundsAsync(IObjectStore store, string runId)
    {
        var rounds = new List<long>();
        foreach (var info in await store.ListAsync(RunLayout.Records(runId)).ConfigureAwait(false))
        {
            var name = info.Key[(info.Key.LastIndexOf('/') + 1)..];
            if (name.EndsWith(".json", StringComparison.Ordinal)
                && long.TryParse(name[..^5], NumberStyles.None, CultureInfo.InvariantCulture, out var round))
                rounds.Add(round);
        }
        rounds.Sort((a, b) => b.CompareTo(a));
        return rounds;
    }

    /// <summary>One record, or null (with the reason added to <paramref name="damaged"/>) when it cannot be read.</summary>
    public static async Task<RoundRecord?> TryReadAsync(IObjectStore store, string runId, long round, List<string> damaged)
    {
        var key = RunLayout.Record(runId, round);
        try
        {
            var record = JsonSerializer.Deserialize(await store.GetAsync(key).ConfigureAwait(false), ContractJson.Default.RoundRecord);
            if (record is not null && record.Metrics.Round == round && record.Next.RunId == runId) return record;
            damaged.Add($"{key} (does not describe round {round} of {runId})");
        }
        catch (JsonException e)
        {
            damaged.Add($"{key} ({e.Message})");
        }
        catch (ObjectNotFoundException)
        {
            damaged.Add($"{key} (missing)");
        }
        return null;
    }

    /// <summary>Every readable record in round order; unreadable ones are named in <paramref name="damaged"/>.</summary>
    public static async Task<List<RoundRecord>> ReadAllAsync(IObjectStore store, string runId, List<string> damaged)
    {
        var rounds = await RoundsAsync(store, runId).ConfigureAwait(false);
        var records = new RoundRecord?[rounds.Count];
        var localDamage = new List<string>[rounds.Count];
        await Parallel.ForAsync(0, rounds.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            localDamage[i] = [];
            records[i] = await TryReadAsync(store, runId, rounds[i], localDamage[i]).ConfigureAwait(false);
        }).ConfigureAwait(false);
        foreach (var d in localDamage.Reverse()) damaged.AddRange(d);
        return records.Where(r => r is not null).Select(r => r!).OrderBy(r => r.Metrics.Round).ToList();
    }

    /// <summary>Rewrites metrics.jsonl from the records of rounds below <paramref name="endRound"/>.</summary>
    public static async Task<List<RoundMetrics>> RebuildMetricsAsync(IObjectStore store, string runId, long endRound, List<string> damaged)
    {
        var metrics = (await ReadAllAsync(store, runId, damaged).ConfigureAwait(false))
            .Where(r => r.Metrics.Round < endRound).Select(r => r.Metrics).ToList();
        await WriteMetricsAsync(store, runId, metrics).ConfigureAwait(false);
        return metrics;
    }

    public static Task WriteMetricsAsync(IObjectStore store, string runId, IEnumerable<RoundMetrics> metrics)
    {
        var text = new StringBuilder();
        foreach (var m in metrics) text.Append(JsonSerializer.Serialize(m, ContractJson.Default.RoundMetrics)).Append('\n');
        return store.PutAsync(RunLayout.Metrics(runId), Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>metrics.jsonl's lines, or null when it is missing or any line is damaged (the caller rebuilds it).</summary>
    public static async Task<List<RoundMetrics>?> TryReadMetricsAsync(IObjectStore store, string runId)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics(runId)).ConfigureAwait(false));
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        var lines = new List<RoundMetrics>();
        try
        {
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                lines.Add(JsonSerializer.Deserialize(line, ContractJson.Default.RoundMetrics) ?? throw new JsonException("a null line"));
        }
        catch (JsonException)
        {
            return null;
        }
        return lines;
    }
}
