using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli;

/// <summary>
/// A run's Step Functions history in the store: one object per execution, runs/&lt;runId&gt;/history/&lt;start&gt;-&lt;name&gt;.json
/// (<c>{name, executionArn, status, startDate, events}</c>, the events in GetExecutionHistory's shape). The local
/// pipeline writes each one while its execution runs and when it ends, then drops it from memory.
/// </summary>
public static class RunHistory
{
    public static Task WriteAsync(IObjectStore store, string runId, Execution execution, string status, CancellationToken ct = default)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", execution.Name);
            w.WriteString("executionArn", execution.ExecutionArn);
            w.WriteString("status", status);
            w.WriteString("startDate", execution.StartTime.ToString("O"));
            w.WritePropertyName("events");
            using (var events = JsonDocument.Parse(execution.HistoryJson()))
                events.RootElement.GetProperty("events").WriteTo(w);
            w.WriteEndObject();
        }
        return store.PutAsync(RunLayout.History(runId, execution.StartTime, execution.Name), buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken: ct);
    }

    /// <summary>Every execution of the run in start order, as <c>{runId, executions: [...]}</c>; null when the run
    /// has no history. An unreadable object is reported as an execution with status "UNREADABLE".</summary>
    public static async Task<JsonObject?> ReadAsync(IObjectStore store, string runId, CancellationToken ct = default)
    {
        var objects = await store.ListAsync(RunLayout.HistoryFolder(runId), ct).ConfigureAwait(false);
        if (objects.Count == 0) return null;
        var executions = new JsonArray();
        foreach (var info in objects)
        {
            try
            {
                executions.Add(JsonNode.Parse(await store.GetAsync(info.Key, ct).ConfigureAwait(false)));
            }
            catch (JsonException e)
            {
                executions.Add(new JsonObject { ["name"] = info.Key, ["status"] = "UNREADABLE", ["executionArn"] = e.Message, ["events"] = new JsonArray() });
            }
        }
        return new JsonObject { ["runId"] = runId, ["executions"] = executions };
    }
}
