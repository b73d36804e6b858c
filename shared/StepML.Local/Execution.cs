using System.Text;
using System.Text.Json;
using StepML.Local.Internal;

namespace StepML.Local;

/// <summary>One run of a state machine. <see cref="Completion"/> never faults for ASL errors (they give a FAILED
/// result); it faults only if a StateExited handler throws or the engine itself has a bug.</summary>
public sealed class Execution
{
    public const string ArnPrefix = "arn:aws:states:local:000000000000:execution:";

    private readonly HistoryRecorder _history;

    internal Execution(string name, StateMachineDefinition machine, DateTimeOffset startTime, string inputJson, HistoryRecorder history)
    {
        Name = name;
        StateMachineName = machine.Name;
        StateMachineArn = machine.StateMachineArn;
        ExecutionArn = $"{ArnPrefix}{machine.Name}:{name}";
        StartTime = startTime;
        InputJson = inputJson;
        _history = history;
    }

    public string Name { get; }
    public string ExecutionArn { get; }
    public string StateMachineName { get; }
    public string StateMachineArn { get; }
    public DateTimeOffset StartTime { get; }
    public string InputJson { get; }

    /// <summary>ARN of the execution whose startExecution task started this one, if any.</summary>
    public string? ParentExecutionArn { get; internal init; }

    public Task<ExecutionResult> Completion { get; internal set; } = null!;

    internal ExecutionRunner? Runner { get; set; }

    /// <summary>Like StopExecution: cancels the CancellationToken given to running functions, ends waits, and
    /// completes the execution as ABORTED (ExecutionAborted event). No effect once it has finished.</summary>
    public void Stop(string? error = null, string? cause = null) => Runner?.Abort(error, cause);

    /// <summary>Events that count toward the 25,000-event quota: the execution's own, not those of its DISTRIBUTED Map
    /// iterations (child executions with their own histories in AWS, recorded here too).</summary>
    public int QuotaEvents => _history.CountedEvents;

    /// <summary>A snapshot of the events recorded so far.</summary>
    public IReadOnlyList<HistoryEvent> History => _history.Snapshot();

    /// <summary>GetExecutionHistory-shaped JSON: <c>{"events":[{"timestamp","type","id","previousEventId","xxxEventDetails"}]}</c>.</summary>
    public string HistoryJson()
    {
        var events = _history.Snapshot();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("events");
            foreach (var e in events)
            {
                w.WriteStartObject();
                w.WriteString("timestamp", e.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("type", e.Type);
                w.WriteNumber("id", e.Id);
                w.WriteNumber("previousEventId", e.PreviousEventId);
                if (e.Details.Count > 0)
                {
                    w.WritePropertyName(HistoryRecorder.DetailsField(e.Type));
                    e.Details.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public override string ToString() => ExecutionArn;
}
