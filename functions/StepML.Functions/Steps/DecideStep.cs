using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using StepML.Core.Algorithms;
using StepML.Core.Cost;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Closes a round: folds the workers' scalars into the training loss of the model the round started from,
/// evaluates that model on the validation partition, assembles the merged shards into model/&lt;round+1&gt;.tensor,
/// appends the round's metrics and applies the stop rules. Nothing is written when the new model is not finite,
/// so the last good model stays the latest.
/// </summary>
public static class DecideStep
{
    public static async Task<RunState> RunAsync(FunctionContext context, RunState state)
    {
        var store = context.Store;
        var runId = state.RunId;
        var round = state.Round;
        var (job, model, algorithm, layout) = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var n = model.ParameterCount;

        var workers = state.Workers ?? throw new InvalidInputException("Decide: the state has no 'workers' (the Workers map's results)");
        var ok = workers.Where(w => w.Partition is not null && w.Samples > 0).ToList();
        long samples = ok.Sum(w => w.Samples);
        if (samples == 0) throw new NoStatisticsException(runId, round);
        var dataLoss = ok.OrderBy(w => w.Partition).Sum(w => w.Samples * w.Loss) / samples;

        var currentKey = RunLayout.Model(runId, round);
        var current = LastWritten(context, currentKey, n) ?? await TensorIo.ReadAsync(store, currentKey, n).ConfigureAwait(false);
        var mask = new float[n];
        model.RegularizationMask(mask);
        var trainLoss = dataLoss + Models.Regularization(current, mask, job.Model.L2, job.Model.L1);

        var validation = await context.Cache.PartitionAsync(RunLayout.Validation(runId)).ConfigureAwait(false);
        Evaluation? eval = validation.Rows > 0 ? model.Evaluate(current, validation) : null;

        var next = new float[n];
        for (var s = 0; s < layout.Shards; s++)
        {
            var (start, length) = layout.ElementRange(s);
            var shard = await TensorIo.ReadAsync(store, RunLayout.Merged(runId, round, s), length).ConfigureAwait(false);
            shard.CopyTo(next.AsSpan((int)start, (int)length));
        }

        var elapsed = (context.Time.GetUtcNow().ToUnixTimeMilliseconds() - state.StartedAtMs) / 1000.0;
        var workerSeconds = ok.Sum(w => w.Seconds);
        var mergeSeconds = state.Merged?.Sum(m => m.Seconds) ?? 0;
        var arm = context.Settings.Architecture == "arm64";
        var roundCost = Pricing.Lambda(workerSeconds, job.Workers.MemoryMb, workers.Length, arm)
            + Pricing.Lambda(mergeSeconds, 1024, layout.Shards + 1, arm)
            + Pricing.RoundRequests(workers.Length, layout.Shards, algorithm.WorkerStateLength(n) > 0)
            + Pricing.StepFunctionsTransition * StopRules.EventsPerRound(job) / 2;
        var cost = state.CostUsd + roundCost;

        var decision = StopRules.Decide(job.Stop, round, trainLoss, state.PreviousLoss, state.FirstLoss ?? trainLoss, state.StallRounds,
            elapsed, cost, state.RoundsThisExecution, state.RoundsPerExecution, RelativeChange(current, next));
        if (!WorkerStep.AllFinite(next))
            throw new TrainingDivergedException($"round {round}: the merged model is not finite; model/{round}.tensor is kept as the last good model. Lower algorithm.learningRate");

        var nextKey = RunLayout.Model(runId, round + 1);
        await TensorIo.WriteAsync(store, nextKey, next, round + 1, layout.BlockElements).ConfigureAwait(false);
        Remember(context, nextKey, next);
        await AppendMetricsAsync(store, runId, new RoundMetrics
        {
            Round = round,
            TrainLoss = trainLoss,
            ValidationLoss = eval?.MeanLoss,
            ValidationAccuracy = model.MetricName == "accuracy" ? eval?.Accuracy : null,
            Metric = model.MetricName,
            ValidationMetric = eval?.Accuracy,
            Samples = samples,
            Workers = ok.Count,
            FailedWorkers = workers.Length - ok.Count,
            MergedStatistics = state.Merged?.Sum(m => m.Contributors) ?? 0,
            DroppedStatistics = state.Merged?.Sum(m => m.Dropped) ?? 0,
            WorkerSeconds = workerSeconds,
            ElapsedSeconds = elapsed,
            CostUsd = cost,
            Action = decision.Action,
            Reason = decision.Reason.Length > 0 ? decision.Reason : null,
        }).ConfigureAwait(false);

        return state with
        {
            Round = round + 1,
            RoundsThisExecution = state.RoundsThisExecution + 1,
            PreviousLoss = trainLoss,
            ValidationLoss = eval?.MeanLoss,
            ValidationMetric = eval?.Accuracy,
            MetricName = eval is null ? null : model.MetricName,
            FirstLoss = state.FirstLoss ?? trainLoss,
            StallRounds = decision.StallRounds,
            CostUsd = cost,
            Action = decision.Action,
            Reason = decision.Reason,
            Workers = null,
            Merged = null,
            TreeLevel = null,
        };
    }

    private static double RelativeChange(ReadOnlySpan<float> before, ReadOnlySpan<float> after)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < before.Length; i++)
        {
            double d = after[i] - before[i];
            diff += d * d;
            norm += (double)before[i] * before[i];
        }
        return norm == 0 ? double.PositiveInfinity : Math.Sqrt(diff / norm);
    }

    /// <summary>Rewrites metrics.jsonl with this round's line replacing any line of the same or a later round, so
    /// a retried Decide leaves exactly one line per round (S3 objects cannot be appended to).</summary>
    private static async Task AppendMetricsAsync(IObjectStore store, string runId, RoundMetrics metrics)
    {
        var key = RunLayout.Metrics(runId);
        var lines = new List<string>();
        // One GET, not HEAD + GET: a missing object (round 0) is the answer "no lines yet".
        foreach (var line in (await ReadMetricsTextAsync(store, key).ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var previous = JsonSerializer.Deserialize(line, ContractJson.Default.RoundMetrics);
            if (previous is not null && previous.Round < metrics.Round) lines.Add(line);
        }
        lines.Add(JsonSerializer.Serialize(metrics, ContractJson.Default.RoundMetrics));
        await store.PutAsync(key, Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n")).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<RoundMetrics>> ReadMetricsAsync(IObjectStore store, string runId)
    {
        var text = await ReadMetricsTextAsync(store, RunLayout.Metrics(runId)).ConfigureAwait(false);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize(line, ContractJson.Default.RoundMetrics)!)
            .ToList();
    }

    private static async Task<string> ReadMetricsTextAsync(IObjectStore store, string key)
    {
        try
        {
            return Encoding.UTF8.GetString(await store.GetAsync(key).ConfigureAwait(false));
        }
        catch (ObjectNotFoundException)
        {
            return "";
        }
    }

    // The model this container's Decide wrote last. The next round's Decide starts from exactly that object
    // (model/<round>.tensor is written once per round, deterministically), so a warm Lambda container, or the local
    // engine, does not read back what it just wrote; a cold container reads it from the store.
    private static readonly ConditionalWeakTable<FunctionContext, StrongBox<(string Key, float[] Values)>> s_lastWritten = new();

    private static float[]? LastWritten(FunctionContext context, string key, long elements) =>
        s_lastWritten.TryGetValue(context, out var box) && box.Value is var (k, values) && k == key && values.Length == elements ? values : null;

    private static void Remember(FunctionContext context, string key, float[] values) =>
        s_lastWritten.AddOrUpdate(context, new StrongBox<(string, float[])>((key, values)));
}
