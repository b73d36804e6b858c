using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Thread-safe, append-only event list (Map iterations record concurrently). Take() hands the events recorded so
// far to a caller that stores them and drops them from memory; ids keep counting.
internal sealed class HistoryRecorder(TimeProvider time)
{
    private readonly List<HistoryEvent> _events = new(64);
    private readonly object _lock = new();
    private long _taken;

    public long Add(string type, long previousEventId, JsonObject? details = null)
    {
        details ??= new JsonObject();
        lock (_lock)
        {
            // Timestamp taken under the lock so that timestamps never decrease with the event id.
            long id = _taken + _events.Count + 1;
            _events.Add(new HistoryEvent(id, previousEventId, time.GetUtcNow(), type, details));
            return id;
        }
    }

    public HistoryEvent[] Snapshot()
    {
        lock (_lock) return _events.ToArray();
    }

    public HistoryEvent[] Take()
    {
        lock (_lock)
        {
            var events = _events.ToArray();
            _taken += events.Length;
            _events.Clear();
            return events;
        }
    }

    /// <summary>Every event recorded, taken or not.</summary>
    public long Count
    {
        get { lock (_lock) return _taken + _events.Count; }
    }

    // The GetExecutionHistory field holding an event's details: Entered/Exited events share
    // stateEnteredEventDetails/stateExitedEventDetails, every other type is camelCase(type) + "EventDetails".
    public static string DetailsField(string type)
    {
        if (type.EndsWith("StateEntered", StringComparison.Ordinal)) return "stateEnteredEventDetails";
        if (type.EndsWith("StateExited", StringComparison.Ordinal)) return "stateExitedEventDetails";
        return char.ToLowerInvariant(type[0]) + type[1..] + "EventDetails";
    }
}

// The causal chain of one thread of control (the execution, a Map iteration or a Parallel branch).
internal sealed class Chain(long last)
{
    public long Last { get; set; } = last;
}
