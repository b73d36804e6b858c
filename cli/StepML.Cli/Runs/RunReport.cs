using System.Text;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Functions.Reports;
using StepML.Storage;

namespace StepML.Cli.Runs;

/// <summary>Renders a run's report.html from everything the store holds: what Finalize or RecordFailure had, plus the
/// worker timeline from history.json and, when known, the optimum. The local pipeline calls it once history.json is
/// written; `stepml report` calls it for any run (a stopped one too).</summary>
internal static class RunReport
{
    public static async Task<string> WriteAsync(RunReader reader, string runId, double? optimum = null, string? optimumSource = null, CancellationToken ct = default)
    {
        var overview = await reader.OverviewAsync(runId, ct).ConfigureAwait(false);
        var job = await reader.JobAsync(runId, ct).ConfigureAwait(false);
        var history = await reader.HistoryAsync(runId, ct).ConfigureAwait(false);
        var workers = history is null ? null : HistoryRows.Parse(history)
            .Where(v => v.State == "Work" && v.Round is not null && v.Iteration is not null)
            .Select(v => new WorkerSpan(v.Round!.Value, v.Iteration!.Value, v.StartSeconds, v.DurationSeconds ?? 0, v.Attempts, v.Status, v.Error))
            .ToList();
        var data = new ReportData(runId, job, overview.RoundMetrics)
        {
            Summary = overview.Final,
            Failure = overview.Failure,
            Workers = workers,
            OptimumLoss = optimum,
            OptimumSource = optimumSource,
            Parameters = Layout(job),
        };
        var key = RunLayout.Report(runId);
        await reader.Store.PutAsync(key, Encoding.UTF8.GetBytes(ReportPage.Html(data)), cancellationToken: ct).ConfigureAwait(false);
        return key;
    }

    private static IReadOnlyList<ParameterTensor> Layout(JobSpec job)
    {
        try
        {
            return ParameterLayout.Of(Core.Models.Models.Create(job.Model, job.Dataset.Features));
        }
        catch (Exception e) when (e is JobSpecException or ArgumentException)
        {
            return [];   // a run that failed before Prepare resolved its shape
        }
    }
}
