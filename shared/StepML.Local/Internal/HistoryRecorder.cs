using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Thread-safe, append-only event list (Map iterations record concurrently). It enforces the history quota of a
// STANDARD execution (AWS: bp-history-limit): when 24,999 events are recorded, event 25,000 may only be
// ExecutionSucceeded; anything else fails the execution with States.Runtime, and ExecutionFailed is event 25,000.
// Events of DISTRIBUTED Map iterations are recorded here too (the local engine runs child executions in-process),
// but they belong to the child executions' own histories in AWS, so they do not count.
internal sealed class HistoryRecorder(TimeProvider time, int maxEvents = HistoryRecorder.MaxEvents)
{
    /// <summary>The hard quota of events in one STANDARD execution's history.</summary>
    public const int MaxEvents = 25_000;

    public static string LimitCause(int max) => $"The execution reached the maximum number of history events ({max}).";

    private readonly List<HistoryEvent> _events = new(64);
    private readonly object _lock = new();
    private int _counted;
    private bool _limitReached;

    // Terminal and start events: always recorded (ExecutionFailed is the event that reports the limit).
    public long Add(string type, long previousEventId, JsonObject? details = null)
    {
        lock (_lock)
        {
            _counted++;
            return AddLocked(type, previousEventId, details);
        }
    }

    // An event of a thread of control; advances the chain. Throws States.Runtime once the quota is reached.
    public void Append(Chain chain, string type, JsonObject? details = null)
    {
        lock (_lock)
        {
            if (!chain.InChildExecution)
            {
                if (_limitReached || _counted >= maxEvents - 1)
                {
                    _limitReached = true;
                    throw StatesError.Runtime(LimitCause(maxEvents));
                }
                _counted++;
            }
            chain.Last = AddLocked(type, chain.Last, details);
        }
    }

    private long AddLocked(string type, long previousEventId, JsonObject? details)
    {
        // Timestamp taken under the lock so that timestamps never decrease with the event id.
        long id = _events.Count + 1;
        _events.Add(new HistoryEvent(id, previousEventId, time.GetUtcNow(), type, details ?? new JsonObject()));
        return id;
    }

    public HistoryEvent[] Snapshot()
    {
        lock (_lock) return _events.ToArray();
    }

    public int Count
    {
        get { lock (_lock) return _events.Count; }
    }

    /// <summary>Events that count toward the quota (the execution's own, not its DISTRIBUTED Map children's).</summary>
    public int CountedEvents
    {
        get { lock (_lock) return _counted; }
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
// InChildExecution: the chain runs inside a DISTRIBUTED Map iteration, a child execution in AWS.
internal sealed class Chain(long last, bool inChildExecution = false)
{
    public long Last { get; set; } = last;
    public bool InChildExecution { get; } = inChildExecution;
}
