using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// What the context object ($$) exposes for one execution; immutable after start.
internal sealed class ExecutionInfo
{
    private readonly Random _random;
    private readonly object _randomLock = new();

    public ExecutionInfo(string executionArn, string name, string startTime, JsonNode? input, string machineArn, string machineName)
    {
        ExecutionArn = executionArn;
        Name = name;
        StartTime = startTime;
        Input = input;
        StateMachineArn = machineArn;
        StateMachineName = machineName;
        _random = new Random(StableHash(executionArn));
    }

    public string ExecutionArn { get; }
    public string Name { get; }
    public string StartTime { get; }
    public JsonNode? Input { get; }
    public string StateMachineArn { get; }
    public string StateMachineName { get; }

    // Execution-seeded randomness (States.MathRandom without a seed, States.UUID, FULL jitter), so a
    // re-run with the same execution name makes the same draws in the same order.
    public int NextInt(int minInclusive, int maxExclusive) { lock (_randomLock) return _random.Next(minInclusive, maxExclusive); }

    public double NextDouble() { lock (_randomLock) return _random.NextDouble(); }

    public void NextBytes(Span<byte> bytes) { lock (_randomLock) _random.NextBytes(bytes); }

    internal static int StableHash(string s)
    {
        unchecked
        {
            uint h = 2166136261;
            foreach (char c in s) { h ^= c; h *= 16777619; }
            return (int)h;
        }
    }
}

// Per-state evaluation scope: the rest of the context object.
internal sealed class StateScope
{
    public required ExecutionInfo Execution { get; init; }
    public required string StateName { get; init; }
    public required DateTimeOffset Entered { get; init; }
    public int RetryCount { get; set; }
    public int MapIndex { get; init; } = -1;
    public JsonNode? MapValue { get; init; }

    // Evaluates a $$ path without materialising the execution input or map item unless asked for.
    public bool TryResolve(JsonPath path, out JsonNode? result)
    {
        string? s0 = path.FieldAt(0), s1 = path.FieldAt(1), s2 = path.FieldAt(2);
        if (s0 == "Execution" && s1 == "Input") return Borrowed(path.TryEvaluate(Execution.Input, out result, 2), Execution.Input, ref result);
        if (s0 == "Map" && s1 == "Item" && s2 == "Value" && MapIndex >= 0) return Borrowed(path.TryEvaluate(MapValue, out result, 3), MapValue, ref result);
        bool whole = path.Length <= 1 || (s0 == "Map" && path.Length <= 2);
        var context = Build(whole);
        if (!path.TryEvaluate(context, out result)) return false;
        result = JsonNodes.Detached(result);
        return true;
    }

    // A root shared by every state must never be handed out: callers detach only nodes that have a parent.
    private static bool Borrowed(bool found, JsonNode? root, ref JsonNode? result)
    {
        if (found && result is not null && ReferenceEquals(result, root)) result = result.DeepClone();
        return found;
    }

    private JsonObject Build(bool withValues)
    {
        var execution = new JsonObject
        {
            ["Id"] = Execution.ExecutionArn,
            ["Name"] = Execution.Name,
            ["StartTime"] = Execution.StartTime,
            ["RoleArn"] = "arn:aws:iam::000000000000:role/local",
            ["RedriveCount"] = 0,
        };
        if (withValues) execution["Input"] = Execution.Input?.DeepClone();
        var context = new JsonObject
        {
            ["Execution"] = execution,
            ["StateMachine"] = new JsonObject { ["Id"] = Execution.StateMachineArn, ["Name"] = Execution.StateMachineName },
            ["State"] = new JsonObject { ["Name"] = StateName, ["EnteredTime"] = JsonNodes.FormatTimestamp(Entered), ["RetryCount"] = RetryCount },
        };
        if (MapIndex >= 0)
        {
            var item = new JsonObject { ["Index"] = MapIndex };
            if (withValues) item["Value"] = MapValue?.DeepClone();
            context["Map"] = new JsonObject { ["Item"] = item };
        }
        return context;
    }
}
