using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Functions;

/// <summary>Reached through the ASL's Catch: writes runs/&lt;runId&gt;/failure.json when the run exists and returns
/// the error for the Fail state. Nothing else is touched, so the last good model stays where it was.</summary>
public static class RecordFailureStep
{
    public static async Task<FailureRecord> RunAsync(FunctionContext context, JsonNode? wrapped)
    {
        var (input, execution) = wrapped is JsonObject { Count: 2 } w && w.ContainsKey("input") && w.ContainsKey("executionId")
            ? (w["input"], Text(w["executionId"]))
            : (wrapped, null);
        var error = input?["error"];
        var name = error?["Error"]?.GetValue<string>() ?? "UnknownError";
        var cause = error?["Cause"]?.GetValue<string>() ?? "";
        // A resumed execution carries its run inside "resume" until Prepare has returned it.
        var runId = Text(input?["runId"] ?? input?["resume"]?["runId"]);
        var record = new FailureRecord(runId, name, cause, context.Time.GetUtcNow());
        // RunExistsException and RunOwnedException mean the runId belongs to another job or execution, and
        // RunNotResumableException a resume of a run that ended by a stop rule: that run did not fail, so leave it alone.
        if (runId is null || name is nameof(RunExistsException) or nameof(RunOwnedException) or nameof(RunNotResumableException) || !IsValidRunId(runId)) return record;
        // A resume of a run id with nothing in the store (a typo, the wrong store): there is no run to record the
        // failure on, and writing failure.json would create one.
        if (name is nameof(RunNotFoundException) && (await context.Store.ListAsync(RunLayout.Root(runId) + "/").ConfigureAwait(false)).Count == 0) return record;
        var owner = execution ?? Text(input?["owner"] ?? input?["resume"]?["owner"]);
        RunOwner? current;
        try
        {
            current = await context.Ledger.ReadAsync(runId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreTransientException or LedgerCorruptException)
        {
            return record; // Ownership unknown: writing could clobber another execution's run.
        }
        if (current is not null && current.Owner != owner) return record;
        await context.Store.PutAsync(RunLayout.Failure(runId), JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Default.FailureRecord)).ConfigureAwait(false);
        await WriteReportAsync(context, runId, record).ConfigureAwait(false);
        if (current is not null) await context.Ledger.MarkAsync(runId, current.Owner, RunStatus.Failed).ConfigureAwait(false);
        return record;
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A failed run gets its report too (the error, the rounds it completed), once Prepare has written its
    /// job; a run that failed before that has nothing to show but failure.json.</summary>
    private static async Task WriteReportAsync(FunctionContext context, string runId, FailureRecord record)
    {
        Core.Jobs.JobSpec job;
        try
        {
            job = await context.Cache.JobAsync(runId).ConfigureAwait(false);
        }
        catch (RunNotFoundException)
        {
            return;
        }
        var metrics = await DecideStep.ReadMetricsAsync(context.Store, runId).ConfigureAwait(false);
        var report = new Reports.ReportData(runId, job, metrics) { Failure = record };
        await context.Store.PutAsync(RunLayout.Report(runId), System.Text.Encoding.UTF8.GetBytes(Reports.ReportPage.Html(report))).ConfigureAwait(false);
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

    /// <summary>A run that runs again (a resume, or a new start on the run id of a refused attempt): its failure.json
    /// moves to failures/&lt;time&gt;.json (copied, then deleted), so `stepml runs` and `watch` stop calling it failed and
    /// the earlier error stays readable.</summary>
    internal static async Task ArchiveAsync(FunctionContext context, string runId)
    {
        var store = context.Store;
        var key = RunLayout.Failure(runId);
        if (!await store.ExistsAsync(key).ConfigureAwait(false)) return;
        var bytes = await store.GetAsync(key).ConfigureAwait(false);
        DateTimeOffset failed;
        try
        {
            failed = JsonSerializer.Deserialize(bytes, ContractJson.Default.FailureRecord)?.Time ?? context.Time.GetUtcNow();
        }
        catch (JsonException)
        {
            failed = context.Time.GetUtcNow();
        }
        await store.PutAsync(RunLayout.PastFailure(runId, failed), bytes).ConfigureAwait(false);
        await store.DeleteAsync(key).ConfigureAwait(false);
    }
}
