using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Cli.Runs;
using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary><c>stepml history RUN</c>: the run's state visits grouped by round, with Map iteration indexes and statuses.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run id (printed by stepml run / demo; `stepml runs` lists them)" };
        var store = Common.StoreOption();
        var events = new Option<bool>("--events") { Description = "List every raw history event instead of one row per state" };
        var round = new Option<long?>("--round") { Description = "Only the states of this round" };
        var json = new Option<bool>("--json") { Description = "One JSON object per state visit (round, state, type, iteration, start, duration, attempts, status, error)" };
        var command = new Command("history", "Show a run's Step Functions history: one row per state visit with its round, Map iteration (partition or shard), start, duration, attempts and status (ok, retried, caught, failed, running)")
        {
            run, store, round, json, events,
        };
        command.SetAction(async (parse, ct) =>
        {
            var runId = ObjectKey.ValidateRunId(parse.GetValue(run)!, "RUN");
            if (parse.GetValue(round) is < 0)
                throw new UsageException($"--round {parse.GetValue(round)}: rounds are numbered from 0; give 0 or more");
            var objectStore = Common.OpenExistingStore(parse.GetValue(store)!);
            var reader = new RunReader(objectStore);
            var doc = await reader.HistoryAsync(runId, ct).ConfigureAwait(false);
            if (doc is null && await reader.RoundsAsync(runId, ct).ConfigureAwait(false) is { Count: > 0 } rounds)
            {
                // A cloud run: its state-level history is in the Step Functions console; the store has its rounds.
                var shown = parse.GetValue(round) is { } r ? rounds.Where(m => m.Round == r).ToList() : rounds;
                if (parse.GetValue(json))
                {
                    foreach (var m in shown) Console.WriteLine(JsonSerializer.Serialize(m, StepML.Functions.ContractJson.Default.RoundMetrics));
                    return 0;
                }
                Console.WriteLine($"run {runId}: no state history in {objectStore.Uri} (a cloud run's states are in the Step Functions console); its rounds, from the per-round records:");
                Console.Write(FormatRounds(shown));
                return 0;
            }
            if (doc is null) throw new UsageException($"run '{runId}' has no history in {objectStore.Uri}: check the run id and --store (`stepml runs{Common.StoreHint(parse.GetValue(store)!)}` lists the runs); a cloud run's state history is in the Step Functions console, its rounds in `stepml watch {runId}{Common.StoreHint(parse.GetValue(store)!)}`");
            if (parse.GetValue(events))
            {
                foreach (var execution in doc["executions"]!.AsArray())
                {
                    Console.WriteLine($"execution {execution!["name"]}  {execution["status"]}  ({execution["executionArn"]})");
                    Console.Write(FormatEvents(execution["events"]!.AsArray().Select(e => e!.AsObject()).ToList()));
                    Console.WriteLine();
                }
                return 0;
            }
            var visits = HistoryRows.Parse(doc);
            if (parse.GetValue(round) is { } only) visits = visits.Where(v => v.Round == only).ToList();
            if (parse.GetValue(json))
            {
                foreach (var v in visits) Console.WriteLine(JsonSerializer.Serialize(v, s_json));
                return 0;
            }
            Console.Write(FormatVisits(visits));
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The table: a blank line between rounds, and a new execution (continue-as-new) named where it starts.</summary>
    internal static string FormatVisits(IReadOnlyList<StateVisit> visits)
    {
        if (visits.Count == 0) return "(no states)\n";
        var rows = new List<string[]>();
        string? execution = null;
        long? round = null;
        foreach (var v in visits)
        {
            if (v.Execution != execution && execution is not null) rows.Add([$"-- execution {v.Execution}", "", "", "", "", "", "", ""]);
            else if (rows.Count > 0 && v.Round != round && v.Iteration is null) rows.Add(["", "", "", "", "", "", "", ""]);
            execution = v.Execution;
            if (v.Iteration is null) round = v.Round;
            rows.Add([
                v.Round?.ToString(CultureInfo.InvariantCulture) ?? "-",
                v.Iteration is null ? v.State : "  " + v.State,
                v.Type,
                v.Iteration?.ToString(CultureInfo.InvariantCulture) ?? "",
                $"+{v.StartSeconds:F3} s",
                v.DurationSeconds is { } d ? $"{d * 1000:F1} ms" : "",
                v.Attempts > 1 ? v.Attempts.ToString(CultureInfo.InvariantCulture) : "",
                v.Error is null ? v.Status : $"{v.Status}: {v.Error}",
            ]);
        }
        return Table(["round", "state", "type", "iteration", "start", "duration", "attempts", "status"], rows);
    }

    private static string FormatEvents(IReadOnlyList<JsonObject> events)
    {
        var rows = events.Select(e =>
        {
            var details = e.FirstOrDefault(p => p.Key.EndsWith("EventDetails", StringComparison.Ordinal)).Value;
            var name = details?["name"]?.GetValue<string>() ?? details?["error"]?.GetValue<string>() ?? "";
            return new[] { e["id"]!.ToString(), e["previousEventId"]!.ToString(), e["timestamp"]!.GetValue<string>(), e["type"]!.GetValue<string>(), name };
        }).ToList();
        return Table(["id", "prev", "timestamp", "type", "name"], rows);
    }

    /// <summary>One row per round, from metrics.jsonl (derived from the records Decide writes in the cloud too).</summary>
    internal static string FormatRounds(IReadOnlyList<StepML.Functions.RoundMetrics> rounds)
    {
        var rows = rounds.Select(m => new[]
        {
            m.Round.ToString(CultureInfo.InvariantCulture),
            m.TrainLoss.ToString("F6", CultureInfo.InvariantCulture),
            m.ValidationLoss is { } v ? v.ToString("F6", CultureInfo.InvariantCulture) : "",
            m.Workers.ToString(CultureInfo.InvariantCulture),
            m.FailedWorkers > 0 ? m.FailedWorkers.ToString(CultureInfo.InvariantCulture) : "",
            m.ElapsedSeconds.ToString("F1", CultureInfo.InvariantCulture),
            m.CostUsd.ToString("F5", CultureInfo.InvariantCulture),
            m.Reason is null ? m.Action : $"{m.Action}: {m.Reason}",
        }).ToList();
        return Table(["round", "loss", "val loss", "workers", "failed", "elapsed s", "cost $", "decision"], rows);
    }

    private static string Table(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in rows) sb.AppendLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        return sb.ToString();
    }
}
