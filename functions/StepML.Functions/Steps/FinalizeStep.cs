using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using StepML.Core.Algorithms;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>Evaluates the last model on every training partition, the validation partition and the test split (when
/// the job has one), and writes
/// model/final.tensor, model/final.json and report.html.</summary>
public static class FinalizeStep
{
    public static async Task<FinalSummary> RunAsync(FunctionContext context, RunState state)
    {
        var store = context.Store;
        var runId = state.RunId;
        var (job, model, _, _) = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var n = model.ParameterCount;
        var modelKey = RunLayout.Model(runId, state.Round);
        // One GET: the bytes are both copied to final.tensor and decoded (checksums verified) for the evaluation.
        var bytes = await store.GetAsync(modelKey).ConfigureAwait(false);
        var parameters = TensorCodec.Decode(bytes, modelKey, out var header);
        if (header.ElementCount != n)
            throw new TensorFormatException(modelKey, $"holds {header.ElementCount} values; this run's tensors have {n}");

        var train = new Evaluation();
        for (var p = 0; p < job.Dataset.Partitions; p++)
        {
            var data = await context.Cache.PartitionAsync(RunLayout.Partition(runId, p)).ConfigureAwait(false);
            train += model.Evaluate(parameters, data);
        }
        var mask = new float[n];
        model.RegularizationMask(mask);
        var validationData = await context.Cache.PartitionAsync(RunLayout.Validation(runId)).ConfigureAwait(false);
        Evaluation? validation = validationData.Rows > 0 ? model.Evaluate(parameters, validationData) : null;
        var testData = job.Dataset.TestPath.Length > 0 ? await context.Cache.PartitionAsync(RunLayout.Test(runId)).ConfigureAwait(false) : null;
        Evaluation? test = testData is null ? null : model.Evaluate(parameters, testData);

        var summary = new FinalSummary
        {
            RunId = runId,
            Rounds = state.Round,
            ModelKey = RunLayout.FinalModel(runId),
            TrainLoss = train.MeanLoss + Models.Regularization(parameters, mask, job.Model.L2, job.Model.L1),
            ZeroWeights = Proximal.ZeroCount(parameters, mask),
            RegularizedWeights = (long)mask.Sum(),
            TrainAccuracy = model.MetricName == "accuracy" ? train.Accuracy : double.NaN,
            ValidationLoss = validation?.MeanLoss,
            ValidationAccuracy = model.MetricName == "accuracy" ? validation?.Accuracy : null,
            Metric = model.MetricName,
            TrainMetric = train.Accuracy,
            ValidationMetric = validation?.Accuracy,
            TestLoss = test?.MeanLoss,
            TestAccuracy = test?.Accuracy,
            StopReason = state.Reason ?? "",
            CostUsd = state.CostUsd,
            ElapsedSeconds = (context.Time.GetUtcNow().ToUnixTimeMilliseconds() - state.StartedAtMs) / 1000.0,
        };
        await store.PutAsync(RunLayout.FinalModel(runId), bytes).ConfigureAwait(false);
        await store.PutAsync(RunLayout.FinalSummary(runId), JsonSerializer.SerializeToUtf8Bytes(summary, ContractJson.Default.FinalSummary)).ConfigureAwait(false);
        var metrics = await DecideStep.ReadMetricsAsync(store, runId).ConfigureAwait(false);
        await store.PutAsync(RunLayout.Report(runId), Encoding.UTF8.GetBytes(Report.Html(job.Name, summary, metrics))).ConfigureAwait(false);
        return summary;
    }
}

/// <summary>A self-contained HTML page (no scripts, no external assets): the summary, a loss curve as inline SVG,
/// and the per-round table.</summary>
internal static class Report
{
    public static string Html(string name, FinalSummary summary, IReadOnlyList<RoundMetrics> rounds)
    {
        static string F(double? v, string format = "G6") => v is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : "–";
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>StepML run ").Append(WebUtility.HtmlEncode(summary.RunId))
          .Append("</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(name)).Append(" — ").Append(WebUtility.HtmlEncode(summary.RunId)).Append("</h1>");
        sb.Append("<p>").Append(summary.Rounds).Append(" rounds; stopped: ").Append(WebUtility.HtmlEncode(summary.StopReason)).Append("</p>");
        var metricFormat = summary.Metric == "accuracy" ? "P2" : "G6";
        sb.Append("<table><tr><th></th><th>loss</th><th>").Append(WebUtility.HtmlEncode(summary.Metric)).Append("</th></tr>");
        sb.Append("<tr><th>training</th><td>").Append(F(summary.TrainLoss)).Append("</td><td>").Append(F(summary.TrainMetric, metricFormat)).Append("</td></tr>");
        sb.Append("<tr><th>validation</th><td>").Append(F(summary.ValidationLoss)).Append("</td><td>").Append(F(summary.ValidationMetric, metricFormat)).Append("</td></tr>");
        if (summary.TestLoss is not null)
            sb.Append("<tr><th>test</th><td>").Append(F(summary.TestLoss)).Append("</td><td>").Append(F(summary.TestAccuracy, metricFormat)).Append("</td></tr>");
        sb.Append("</table>");
        if (rounds.Count > 1)
        {
            double min = rounds.Min(r => r.TrainLoss), max = rounds.Max(r => r.TrainLoss);
            var span = Math.Max(max - min, 1e-12);
            var points = string.Join(' ', rounds.Select((r, i) => string.Create(CultureInfo.InvariantCulture,
                $"{10 + 580.0 * i / (rounds.Count - 1):F1},{10 + 180 * (max - r.TrainLoss) / span:F1}")));
            sb.Append("<h2>Training loss</h2><svg width=\"600\" height=\"200\" style=\"border:1px solid #ccc\"><polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"")
              .Append(points).Append("\"/></svg>");
        }
        sb.Append("<h2>Rounds</h2><table><tr><th>round</th><th>train loss</th><th>val loss</th><th>val ").Append(WebUtility.HtmlEncode(summary.Metric)).Append("</th><th>workers</th><th>failed</th><th>elapsed s</th><th>cost $</th></tr>");
        foreach (var r in rounds)
            sb.Append("<tr><td>").Append(r.Round).Append("</td><td>").Append(F(r.TrainLoss)).Append("</td><td>").Append(F(r.ValidationLoss))
              .Append("</td><td>").Append(F(r.ValidationMetric ?? r.ValidationAccuracy, metricFormat)).Append("</td><td>").Append(r.Workers).Append("</td><td>").Append(r.FailedWorkers)
              .Append("</td><td>").Append(F(r.ElapsedSeconds, "F2")).Append("</td><td>").Append(F(r.CostUsd, "F5")).Append("</td></tr>");
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}
