using System.Text;
using System.Text.Json;
using StepML.Core.Data;
using StepML.Core.Algorithms;
using StepML.Core.Cost;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Functions;

/// <summary>Evaluates the last model on every training partition, the validation partition and the test split (when
/// the job has one), and writes
/// model/final.tensor, model/final.json and report.html.</summary>
public static class FinalizeStep
{
    public static async Task<FinalSummary> RunAsync(FunctionContext context, RunState state)
    {
        var started = context.Time.GetTimestamp();
        var store = context.Store;
        var runId = state.RunId;
        var owner = state.Owner ?? throw new InvalidInputException("Finalize: the state has no 'owner' (Prepare sets it; the run ledger needs it)");
        await context.Ledger.EnsureOwnerAsync(runId, owner).ConfigureAwait(false);
        var (job, model, _, _) = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var n = model.ParameterCount;
        var modelKey = RunLayout.Model(runId, state.Round);
        // One GET: the bytes are both copied to final.tensor and decoded (checksums verified) for the evaluation.
        var bytes = await store.GetAsync(modelKey).ConfigureAwait(false);
        var parameters = TensorCodec.Decode(bytes, modelKey, out var header);
        if (header.ElementCount != n)
            throw new TensorFormatException(modelKey, $"holds {header.ElementCount} values; this run's tensors have {n}");

        var train = new Evaluation();
        // Finalize tolerates what the rounds tolerated: up to the same share of partitions may fail to evaluate.
        var tolerated = (int)Math.Floor(job.Dataset.Partitions * state.ToleratedFailurePercentage / 100);
        var unevaluated = new List<int>();
        var partitions = new List<Partition>();
        for (var p = 0; p < job.Dataset.Partitions; p++)
        {
            try
            {
                var data = await context.Cache.RunPartitionAsync(runId, p).ConfigureAwait(false);
                train += model.Evaluate(parameters, data);
                partitions.Add(data);
            }
            catch (Exception e) when (unevaluated.Count < tolerated && e is not (StoreTransientException or StoreFullException or OperationCanceledException))
            {
                unevaluated.Add(p);
            }
        }
        // Any algorithm's final linear model gets its certificate (one more pass over the partitions in memory); not
        // when a tolerated partition could not be read (the bound needs every row).
        var certificate = MarginStatistics.Supports(model) && job.Model.L2 > 0 && train.Rows > 0 && unevaluated.Count == 0
            ? DualityGap.Evaluate(model, parameters, partitions, job.Model.L2)
            : null;
        var mask = new float[n];
        model.RegularizationMask(mask);
        var validationData = await context.Cache.ValidationAsync(runId).ConfigureAwait(false);
        Evaluation? validation = validationData.Rows > 0 ? model.Evaluate(parameters, validationData) : null;
        var testData = job.Dataset.TestPath.Length > 0 ? await context.Cache.TestAsync(runId).ConfigureAwait(false) : null;
        Evaluation? test = testData is null ? null : model.Evaluate(parameters, testData);

        var damaged = new List<string>();
        var metrics = await DecideStep.ReadMetricsAsync(store, runId, state.Round, damaged).ConfigureAwait(false);
        // Finalize's own part: its invocation, its state, the model and metrics it reads, the three objects it writes.
        var usage = (state.Usage ?? ResourceUsage.None).Plus(
            ResourceUsage.Function(DeployedMemory.Finalize, 1, context.Time.GetElapsedTime(started).TotalSeconds, FunctionContext.Memory[DeployedMemory.Finalize])
            with { Transitions = RoundUsage.FinishTransitions, S3Gets = 2, S3Puts = 3 });
        var cost = CostModel.Price(usage, job.Communication.Channel, context.Settings.Architecture == "arm64");
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
            CostUsd = cost.TotalUsd,
            Cost = cost,
            Usage = usage,
            ElapsedSeconds = (context.Time.GetUtcNow().ToUnixTimeMilliseconds() - state.StartedAtMs) / 1000.0,
            Warnings = damaged.Count == 0 ? null : damaged.Select(d => $"unreadable round record {d}: its round is missing from metrics.jsonl and the report").ToArray(),
            FailedWorkers = state.TotalFailedWorkers,
            FailedPartitions = state.FailedPartitions,
            UnevaluatedPartitions = unevaluated.Count > 0 ? [.. unevaluated] : null,
            Gap = certificate?.Gap,
            RelativeGap = certificate is { RelativeGap: var g } && double.IsFinite(g) ? g : null,
        };
        await store.PutAsync(RunLayout.FinalModel(runId), bytes).ConfigureAwait(false);
        await store.PutAsync(RunLayout.FinalSummary(runId), JsonSerializer.SerializeToUtf8Bytes(summary, ContractJson.Default.FinalSummary)).ConfigureAwait(false);
        var report = new Reports.ReportData(runId, job, metrics) { Summary = summary, Parameters = ParameterLayout.Of(model) };
        await store.PutAsync(RunLayout.Report(runId), Encoding.UTF8.GetBytes(Reports.ReportPage.Html(report))).ConfigureAwait(false);
        await context.Ledger.MarkAsync(runId, owner, RunStatus.Finished).ConfigureAwait(false);
        return summary;
    }
}
