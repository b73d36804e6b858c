using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>Reached through the ASL's Catch: writes runs/&lt;runId&gt;/failure.json when the run exists and returns
/// the error for the Fail state. Nothing else is touched, so the last good model stays where it was.</summary>
public static class RecordFailureStep
{
    public static async Task<FailureRecord> RunAsync(FunctionContext context, JsonNode? input)
    {
        var error = input?["error"];
        var name = error?["Error"]?.GetValue<string>() ?? "UnknownError";
        var cause = error?["Cause"]?.GetValue<string>() ?? "";
        // A resumed execution carries its run inside "resume" until Prepare has returned it.
        var runId = (input?["runId"] ?? input?["resume"]?["runId"]) is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;
        var record = new FailureRecord(runId, name, cause, context.Time.GetUtcNow());
        // RunExistsException means the runId belongs to another job's run: that run did not fail, so leave it alone.
        if (runId is not null && name != nameof(RunExistsException) && IsValidRunId(runId))
            await context.Store.PutAsync(RunLayout.Failure(runId), JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Default.FailureRecord)).ConfigureAwait(false);
        return record;
    }

    private static bool IsValidRunId(string runId)
    {
        try
        {
            ObjectKey.ValidateRunId(runId);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
