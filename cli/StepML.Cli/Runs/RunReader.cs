using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Runs;

/// <summary>Where a run stands, as its objects in the store say.</summary>
public enum RunStatus { Running, Finished, Failed }

/// <summary>
/// Reads what a run's steps write to the store (job.json, metrics.jsonl, model/final.json, failure.json,
/// history.json). The one place the user tools (runs, watch, history, report, predict) read run data, so a change of
/// layout (per-round records, say) changes this class alone. Every read works on any <see cref="IObjectStore"/>, so the
/// same commands follow a local run and a cloud run on S3.
/// </summary>
public sealed class RunReader(IObjectStore store)
{
    public IObjectStore Store { get; } = store;

    /// <summary>Run ids under runs/ (those with a job.json, i.e. that Prepare created), sorted.</summary>
    public async Task<IReadOnlyList<string>> ListRunIdsAsync(CancellationToken ct = default)
    {
        var objects = await Store.ListAsync("runs/", ct).ConfigureAwait(false);
        return objects.Select(o => o.Key.Split('/'))
            .Where(parts => parts.Length == 3 && parts[2] == "job.json")
            .Select(parts => parts[1]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    public async Task<bool> ExistsAsync(string runId, CancellationToken ct = default) =>
        await Store.ExistsAsync(RunLayout.Job(runId), ct).ConfigureAwait(false);

    public async Task<JobSpec> JobAsync(string runId, CancellationToken ct = default)
    {
        var text = await TextAsync(RunLayout.Job(runId), ct).ConfigureAwait(false)
            ?? throw new UsageException($"run '{runId}' does not exist in {Store.Uri} (no {RunLayout.Job(runId)}): check the run id and --store; `stepml runs{Commands.Common.StoreHint(Store)}` lists the runs");
        return JobSpecParser.Parse(text, RunLayout.Job(runId)); // a damaged job.json in the store: named by its key
    }

    /// <summary>One entry per completed round, in round order (empty before the first round ends).</summary>
    public async Task<IReadOnlyList<RoundMetrics>> RoundsAsync(string runId, CancellationToken ct = default)
    {
        var text = await TextAsync(RunLayout.Metrics(runId), ct).ConfigureAwait(false) ?? "";
        var rounds = new List<RoundMetrics>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                rounds.Add(JsonSerializer.Deserialize(line, ContractJson.Default.RoundMetrics)!);
            }
            catch (JsonException)
            {
                // A line being written (a reader racing the writer on a store without atomic puts): the next poll has it.
            }
        }
        return rounds;
    }

    public async Task<FinalSummary?> FinalAsync(string runId, CancellationToken ct = default) =>
        await TextAsync(RunLayout.FinalSummary(runId), ct).ConfigureAwait(false) is { } text
            ? JsonSerializer.Deserialize(text, ContractJson.Default.FinalSummary) : null;

    public async Task<FailureRecord?> FailureAsync(string runId, CancellationToken ct = default) =>
        await TextAsync(RunLayout.Failure(runId), ct).ConfigureAwait(false) is { } text
            ? JsonSerializer.Deserialize(text, ContractJson.Default.FailureRecord) : null;

    /// <summary>history.json (the executions' Step Functions events), or null when no engine wrote one.</summary>
    /// <summary>The run's history assembled from its per-execution segments (<see cref="RunHistory"/>).</summary>
    public async Task<JsonNode?> HistoryAsync(string runId, CancellationToken ct = default) =>
        await RunHistory.ReadAsync(Store, runId, ct).ConfigureAwait(false);

    public async Task<RunOverview> OverviewAsync(string runId, CancellationToken ct = default)
    {
        var final = await FinalAsync(runId, ct).ConfigureAwait(false);
        var failure = final is null ? await FailureAsync(runId, ct).ConfigureAwait(false) : null;
        var rounds = await RoundsAsync(runId, ct).ConfigureAwait(false);
        var status = final is not null ? RunStatus.Finished : failure is not null ? RunStatus.Failed : RunStatus.Running;
        var start = StartOf(runId) ?? await HistoryStartAsync(runId, ct).ConfigureAwait(false);
        var last = rounds.Count > 0 ? rounds[^1] : null;
        return new RunOverview(runId, status, final?.Rounds ?? rounds.Count, final?.TrainLoss ?? last?.TrainLoss,
            final?.CostUsd ?? last?.CostUsd ?? 0, start, final, failure, rounds);
    }

    /// <summary>The start time spelled in a generated run id (name-yyyyMMdd-HHmmss-hex), in UTC.</summary>
    internal static DateTimeOffset? StartOf(string runId)
    {
        var parts = runId.Split('-');
        if (parts.Length < 4) return null;
        return DateTimeOffset.TryParseExact(parts[^3] + parts[^2], "yyyyMMddHHmmss", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    private async Task<DateTimeOffset?> HistoryStartAsync(string runId, CancellationToken ct)
    {
        var history = await HistoryAsync(runId, ct).ConfigureAwait(false);
        var start = history?["executions"]?.AsArray().FirstOrDefault()?["startDate"]?.GetValue<string>();
        return start is null ? null : DateTimeOffset.Parse(start, CultureInfo.InvariantCulture);
    }

    private async Task<string?> TextAsync(string key, CancellationToken ct)
    {
        try
        {
            return Encoding.UTF8.GetString(await Store.GetAsync(key, ct).ConfigureAwait(false));
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>A run at a glance: what `stepml runs` lists and `stepml watch` follows.</summary>
public sealed record RunOverview(string RunId, RunStatus Status, long Rounds, double? Loss, double CostUsd, DateTimeOffset? Start,
    FinalSummary? Final, FailureRecord? Failure, IReadOnlyList<RoundMetrics> RoundMetrics);
