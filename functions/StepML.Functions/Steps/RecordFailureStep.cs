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
        {
            await context.Store.PutAsync(RunLayout.Failure(runId), JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Default.FailureRecord)).ConfigureAwait(false);
            await WriteReportAsync(context, runId, record).ConfigureAwait(false);
        }
        return record;
    }

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
}
