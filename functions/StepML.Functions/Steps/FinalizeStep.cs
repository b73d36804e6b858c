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
        var report = new Reports.ReportData(runId, job, metrics) { Summary = summary, Parameters = ParameterLayout.Of(model) };
        await store.PutAsync(RunLayout.Report(runId), Encoding.UTF8.GetBytes(Reports.ReportPage.Html(report))).ConfigureAwait(false);
        return summary;
    }
}
