using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli;

/// <summary>
/// A run's Step Functions history in the store, written as it happens: each execution is a folder
/// runs/&lt;runId&gt;/history/&lt;start&gt;-&lt;name&gt;/ of numbered segments, each
/// <c>{name, executionArn, status, startDate, events}</c> holding the events recorded since the previous segment
/// (GetExecutionHistory's shape). Written events are dropped from memory, so a run of any length keeps a bounded
/// history in memory, and a killed run keeps its history up to the last segment.
/// </summary>
public sealed class RunHistoryWriter(IObjectStore store, string runId, Execution execution)
{
    private int _segment;

    /// <summary>Writes the events recorded since the last call (nothing when there are none and the status is
    /// unchanged).</summary>
    public async Task FlushAsync(string status, CancellationToken ct = default)
    {
        var events = execution.TakeHistory();
        if (events.Count == 0 && status == "RUNNING") return;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", execution.Name);
            w.WriteString("executionArn", execution.ExecutionArn);
            w.WriteString("status", status);
            w.WriteString("startDate", execution.StartTime.ToString("O"));
            w.WritePropertyName("events");
            using (var doc = JsonDocument.Parse(Execution.FormatHistory(events)))
                doc.RootElement.GetProperty("events").WriteTo(w);
            w.WriteEndObject();
        }
        await store.PutAsync(RunLayout.History(runId, execution.StartTime, execution.Name, _segment++),
            buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken: ct).ConfigureAwait(false);
    }
}

public static class RunHistory
{
    /// <summary>Every execution of the run in start order, as <c>{runId, executions: [{name, executionArn, status,
    /// startDate, events}]}</c> (the status of an execution's last segment); null when the run has no history. An
    /// unreadable segment is named in place of its events.</summary>
    public static async Task<JsonObject?> ReadAsync(IObjectStore store, string runId, CancellationToken ct = default)
    {
        var objects = await store.ListAsync(RunLayout.HistoryFolder(runId), ct).ConfigureAwait(false);
        if (objects.Count == 0) return null;
        var executions = new JsonArray();
        foreach (var group in objects.GroupBy(o => o.Key[..o.Key.LastIndexOf('/')]))
        {
            var execution = new JsonObject();
            var events = new JsonArray();
            foreach (var info in group)
            {
                JsonNode? segment;
                try
                {
                    segment = JsonNode.Parse(await store.GetAsync(info.Key, ct).ConfigureAwait(false));
                }
                catch (JsonException e)
                {
                    execution["unreadable"] = $"{info.Key}: {e.Message}";
                    continue;
                }
                foreach (var field in new[] { "name", "executionArn", "status", "startDate" })
                    execution[field] = segment?[field]?.DeepClone();
                foreach (var e in segment?["events"]?.AsArray() ?? []) events.Add(e?.DeepClone());
            }
            execution["events"] = events;
            executions.Add(execution);
        }
        return new JsonObject { ["runId"] = runId, ["executions"] = executions };
    }
}
