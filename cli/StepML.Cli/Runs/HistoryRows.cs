using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Cli.Runs;

/// <summary>One visit of a state, as the console's table shows it, placed in its round and Map iteration.</summary>
/// <param name="Iteration">The Map iteration index (the partition for Workers, the shard for Merge); null outside a Map.</param>
/// <param name="Attempts">Lambda invocations of a Task state (1 + retries).</param>
/// <param name="Status">ok, retried, caught (a Catch took the error), failed, or running.</param>
public sealed record StateVisit(string Execution, long? Round, string State, string Type, int? Iteration, double StartSeconds,
    double? DurationSeconds, int Attempts, string Status, string? Error);

/// <summary>Turns Step Functions history events (history.json, the engine's or the console's) into one
/// <see cref="StateVisit"/> per state visit. Events are attributed to Map iterations by following previousEventId
/// back to their MapIterationStarted, which is how the console nests them too.</summary>
public static class HistoryRows
{
    private sealed record Context(int? Iteration, long? Round, Context? Parent);

    public static IReadOnlyList<StateVisit> Parse(JsonNode history)
    {
        var visits = new List<StateVisit>();
        var executions = history["executions"]?.AsArray() ?? [];
        DateTimeOffset? origin = null;
        foreach (var execution in executions)
        {
            var events = execution!["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
            if (events.Count == 0) continue;
            origin ??= Time(events[0]);
            Parse(execution["name"]?.GetValue<string>() ?? "", execution["status"]?.GetValue<string>() ?? "RUNNING", events, origin.Value, visits);
        }
        return visits;
    }

    private static void Parse(string executionName, string executionStatus, List<JsonObject> events, DateTimeOffset origin, List<StateVisit> visits)
    {
        var root = new Context(null, null, null);
        var contextOf = new Dictionary<long, Context>();     // the context an event belongs to
        var contextAfter = new Dictionary<long, Context>();  // the context of events that follow it
        var open = new Dictionary<(Context, string), Builder>(ReferenceTupleComparer.Instance);
        var byContext = new Dictionary<Context, Builder>(ReferenceEqualityComparer.Instance);
        var order = new List<Builder>();
        foreach (var e in events)
        {
            var id = e["id"]!.GetValue<long>();
            var previous = e["previousEventId"]?.GetValue<long>() ?? 0;
            var parent = contextAfter.GetValueOrDefault(previous, root);
            var type = e["type"]!.GetValue<string>();
            Context mine = parent, after = parent;
            if (type == "MapIterationStarted")
                mine = after = new Context(Details(e)?["index"]?.GetValue<int>(), parent.Round, parent);
            else if (type is "MapIterationSucceeded" or "MapIterationFailed" or "MapIterationAborted")
                after = parent.Parent ?? root;
            contextOf[id] = mine;
            contextAfter[id] = after;
            var at = (Time(e) - origin).TotalSeconds;
            if (type.EndsWith("StateEntered", StringComparison.Ordinal))
            {
                var name = Details(e)?["name"]?.GetValue<string>() ?? "?";
                var round = RoundOf(Details(e)?["input"]?.GetValue<string>()) ?? mine.Round;
                var builder = new Builder(name, type[..^"StateEntered".Length], mine.Iteration, round, at);
                open[(mine, name)] = builder;
                byContext[mine] = builder;
                order.Add(builder);
            }
            else if (type.EndsWith("StateExited", StringComparison.Ordinal))
            {
                var name = Details(e)?["name"]?.GetValue<string>() ?? "?";
                if (open.Remove((mine, name), out var builder)) builder.End = at;
            }
            else if (type is "LambdaFunctionScheduled" or "TaskScheduled")
            {
                if (byContext.TryGetValue(mine, out var b)) b.Attempts++;
            }
            else if (type is "LambdaFunctionFailed" or "LambdaFunctionTimedOut" or "TaskFailed" or "TaskTimedOut" or "MapRunFailed" or "MapStateFailed" or "ParallelStateFailed")
            {
                if (byContext.TryGetValue(mine, out var b)) b.LastError = Details(e)?["error"]?.GetValue<string>() ?? b.LastError ?? type;
            }
            else if (type is "LambdaFunctionSucceeded" or "TaskSucceeded")
            {
                if (byContext.TryGetValue(mine, out var b)) { b.Succeeded = true; b.LastError = null; }
            }
            else if (type is "ExecutionFailed" or "MapIterationFailed")
            {
                var error = Details(e)?["error"]?.GetValue<string>();
                if (byContext.TryGetValue(mine, out var b) && b.End is null) b.LastError ??= error;
            }
        }
        foreach (var b in order)
        {
            string status;
            if (b.Type == "Fail") status = "failed";
            else if (b.End is null) status = b.LastError is not null || executionStatus is "FAILED" or "ABORTED" or "TIMED_OUT" ? "failed" : "running";
            else if (b.LastError is not null) status = "caught";
            else if (b.Attempts > 1) status = "retried";
            else status = "ok";
            var error = b.LastError;
            if (b.Type == "Fail") error ??= "Fail state";
            visits.Add(new StateVisit(executionName, b.Round, b.Name, b.Type, b.Iteration, b.Start, b.End - b.Start, b.Attempts, status, error));
        }
    }

    private static JsonNode? Details(JsonObject e) => e.FirstOrDefault(p => p.Key.EndsWith("EventDetails", StringComparison.Ordinal)).Value;

    private static DateTimeOffset Time(JsonObject e) => DateTimeOffset.Parse(e["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);

    /// <summary>The "round" field of a state's input (every loop state and each worker's input carries it).</summary>
    private static long? RoundOf(string? input)
    {
        if (input is null || !input.Contains("\"round\"", StringComparison.Ordinal)) return null;
        try
        {
            return JsonNode.Parse(input) is JsonObject o && o["round"] is JsonValue v && v.TryGetValue<long>(out var r) ? r : null;
        }
        catch (JsonException)
        {
            return null;   // a truncated input (the console truncates large ones)
        }
    }

    private sealed class Builder(string name, string type, int? iteration, long? round, double start)
    {
        public string Name { get; } = name;
        public string Type { get; } = type;
        public int? Iteration { get; } = iteration;
        public long? Round { get; } = round;
        public double Start { get; } = start;
        public double? End { get; set; }
        public int Attempts { get; set; }
        public bool Succeeded { get; set; }
        public string? LastError { get; set; }
    }

    private sealed class ReferenceTupleComparer : IEqualityComparer<(Context, string)>
    {
        public static readonly ReferenceTupleComparer Instance = new();
        public bool Equals((Context, string) x, (Context, string) y) => ReferenceEquals(x.Item1, y.Item1) && x.Item2 == y.Item2;
        public int GetHashCode((Context, string) obj) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), obj.Item2);
    }
}
