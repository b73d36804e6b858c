using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary><c>stepml history RUN</c>: the run's executions as the console's table of state, type, start, duration.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run id (printed by stepml run / demo)" };
        var store = Common.StoreOption();
        var events = new Option<bool>("--events") { Description = "List every raw history event instead of one row per state" };
        var command = new Command("history", "Show a run's Step Functions event history: one row per state with its type, start and duration") { run, store, events };
        command.SetAction(async (parse, ct) =>
        {
            var runId = ObjectKey.ValidateRunId(parse.GetValue(run)!, "RUN");
            var objectStore = ObjectStores.Open(parse.GetValue(store)!);
            var doc = await RunHistory.ReadAsync(objectStore, runId, ct).ConfigureAwait(false)
                ?? throw new UsageException($"run '{runId}' has no history in {objectStore.Uri}: check the run id and --store");
            foreach (var execution in doc["executions"]!.AsArray())
            {
                Console.WriteLine($"execution {execution!["name"]}  {execution["status"]}  ({execution["executionArn"]})");
                var list = execution["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
                Console.Write(parse.GetValue(events) ? FormatEvents(list) : FormatStates(list));
                Console.WriteLine();
            }
            return 0;
        });
        return command;
    }

    private static DateTimeOffset Time(JsonObject e) => DateTimeOffset.Parse(e["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);

    /// <summary>One row per state visit: entered/exited events paired by state name in order (inline Map iterations
    /// of the same state are paired first-in, first-out).</summary>
    internal static string FormatStates(IReadOnlyList<JsonObject> events)
    {
        if (events.Count == 0) return "(no events)\n";
        var start = Time(events[0]);
        var open = new Dictionary<string, Queue<(JsonObject Event, int Row)>>();
        var rows = new List<string[]>();
        foreach (var e in events)
        {
            var type = e["type"]!.GetValue<string>();
            if (type.EndsWith("StateEntered", StringComparison.Ordinal))
            {
                var name = e["stateEnteredEventDetails"]?["name"]?.GetValue<string>() ?? "?";
                rows.Add([name, type[..^"StateEntered".Length], $"+{(Time(e) - start).TotalSeconds:F3} s", "(running)", ""]);
                if (!open.TryGetValue(name, out var q)) open[name] = q = new();
                q.Enqueue((e, rows.Count - 1));
            }
            else if (type.EndsWith("StateExited", StringComparison.Ordinal))
            {
                var name = e["stateExitedEventDetails"]?["name"]?.GetValue<string>() ?? "?";
                if (open.TryGetValue(name, out var q) && q.Count > 0)
                {
                    var (entered, row) = q.Dequeue();
                    rows[row][3] = $"{(Time(e) - Time(entered)).TotalMilliseconds:F1} ms";
                    rows[row][4] = "ok";
                }
            }
            else if (type is "TaskFailed" or "ExecutionFailed" or "MapRunFailed" or "MapIterationFailed")
            {
                var details = e.FirstOrDefault(p => p.Key.EndsWith("EventDetails", StringComparison.Ordinal)).Value;
                rows.Add(["", type, $"+{(Time(e) - start).TotalSeconds:F3} s", "", details?["error"]?.GetValue<string>() ?? ""]);
            }
        }
        return Table(["state", "type", "start", "duration", "status"], rows);
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
