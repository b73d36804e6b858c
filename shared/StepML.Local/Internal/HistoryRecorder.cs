using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

/// <summary>Thread-safe, append-only event list (Map iterations record concurrently).</summary>
internal sealed class HistoryRecorder(TimeProvider time)
{
    private readonly List<HistoryEvent> _events = new(64);
    private readonly object _lock = new();

    public long Add(string type, long previousEventId, JsonObject? details = null)
    {
        var timestamp = time.GetUtcNow();
        lock (_lock)
        {
            long id = _events.Count + 1;
            _events.Add(new HistoryEvent(id, previousEventId, timestamp, type, details ?? new JsonObject()));
            return id;
        }
    }

    public HistoryEvent[] Snapshot()
    {
        lock (_lock) return _events.ToArray();
    }

    public int Count
    {
        get { lock (_lock) return _events.Count; }
    }

    /// <summary>The GetExecutionHistory field holding an event's details: Entered/Exited events share
    /// stateEnteredEventDetails/stateExitedEventDetails, every other type is camelCase(type) + "EventDetails".</summary>
    public static string DetailsField(string type)
    {
        if (type.EndsWith("StateEntered", StringComparison.Ordinal)) return "stateEnteredEventDetails";
        if (type.EndsWith("StateExited", StringComparison.Ordinal)) return "stateExitedEventDetails";
        return char.ToLowerInvariant(type[0]) + type[1..] + "EventDetails";
    }
}

/// <summary>The causal chain of one thread of control (the execution, a Map iteration or a Parallel branch).</summary>
internal sealed class Chain(long last)
{
    public long Last { get; set; } = last;
}
