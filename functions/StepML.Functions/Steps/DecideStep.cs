using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using StepML.Core.Algorithms;
using StepML.Core.Cost;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;
using StepML.Storage.Ledger;

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
        if (state.Async == true) return await AsyncDecideStep.RunAsync(context, state).ConfigureAwait(false);
        var started = context.Time.GetTimestamp();
        var store = context.Store;
        var runId = state.RunId;
        var round = state.Round;
        // An execution whose run was taken over (a forced resume while it still ran) must not write its rounds.
        await context.Ledger.EnsureOwnerAsync(runId, state.Owner
            ?? throw new InvalidInputException("Decide: the state has no 'owner' (Prepare sets it; the run ledger needs it)")).ConfigureAwait(false);
        var (job, model, algorithm, layout) = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var n = model.ParameterCount;
        var stop = state.MaxRounds is { } maxRounds ? job.Stop with { MaxRounds = maxRounds } : job.Stop;

        var workers = state.Workers ?? throw new InvalidInputException("Decide: the state has no 'workers' (the Workers map's results)");
        var ok = workers.Where(w => w.Partition is not null && w.Samples > 0).ToList();
        // A failed, tolerated Map iteration leaves an error object (no partition) in its item's slot.
        var failedPartitions = Enumerable.Range(0, workers.Length).Where(i => workers[i].Partition is null && i < state.Partitions.Length)
            .Select(i => state.Partitions[i]).ToArray();
        long samples = ok.Sum(w => w.Samples);
        if (samples == 0) throw new NoStatisticsException(runId, round);
        var dataLoss = ok.OrderBy(w => w.Partition).Sum(w => w.Samples * w.Loss) / samples;

        var currentKey = RunLayout.Model(runId, round);
        var current = LastWritten(context, currentKey, n) ?? await TensorIo.ReadAsync(store, currentKey, n).ConfigureAwait(false);
        var mask = new float[n];
        model.RegularizationMask(mask);
        var trainLoss = dataLoss + Models.Regularization(current, mask, job.Model.L2, job.Model.L1);

        var validation = await context.Cache.ValidationAsync(runId).ConfigureAwait(false);
        Evaluation? eval = validation.Rows > 0 ? model.Evaluate(current, validation) : null;

        var channel = context.Channel(job);
        var merged = new float[n];
        for (var s = 0; s < layout.Shards; s++)
        {
            var (start, length) = layout.ElementRange(s);
            var shard = await TensorIo.ReadAsync(channel, RunLayout.Merged(runId, round, s), length).ConfigureAwait(false);
            shard.CopyTo(merged.AsSpan((int)start, (int)length));
        }

        var elapsed = (context.Time.GetUtcNow().ToUnixTimeMilliseconds() - state.StartedAtMs) / 1000.0;
        var workerSeconds = ok.Sum(w => w.Seconds);
        var arm = context.Settings.Architecture == "arm64";
        // The round's usage so far; the continue-as-new transitions are added once the decision is known.
        var previousElapsed = round > 0 && state.Usage is not null ? state.PreviousElapsedSeconds : 0;
        var roundUsage = RoundUsage.Of(RoundShape.Of(job, n, algorithm), FunctionContext.Memory.For(job),
            ok.Select(w => w.Seconds).ToArray(), state.Merged?.Select(m => m.Seconds).ToArray() ?? [],
            context.Time.GetElapsedTime(started).TotalSeconds, elapsed - previousElapsed, firstRound: round == 0 || state.RoundsThisExecution == 0, continueAsNew: false);
        var cost = CostModel.Price((state.Usage ?? ResourceUsage.None).Plus(roundUsage), job.Communication.Channel, arm).TotalUsd;

        var certificate = Certify(ok, state.Merged, trainLoss, job.Model.L2);
        var relativeGap = certificate is { RelativeGap: var g } && double.IsFinite(g) ? g : (double?)null;
        var decision = StopRules.Decide(stop, round, trainLoss, state.PreviousLoss, state.FirstLoss ?? trainLoss, state.StallRounds,
            elapsed, cost, state.RoundsThisExecution, state.RoundsPerExecution, RelativeChange(current, merged), relativeGap);
        if (decision.Action == Actions.ContinueAsNew)
            roundUsage = roundUsage with { Transitions = roundUsage.Transitions + RoundUsage.ContinueTransitions };
        if (!WorkerStep.AllFinite(merged))
            throw new TrainingDivergedException($"round {round}: the merged model is not finite; model/{round}.tensor is kept as the last good model. Lower algorithm.learningRate");

        var nextKey = RunLayout.Model(runId, round + 1);
        await TensorIo.WriteAsync(store, nextKey, merged, round + 1, layout.BlockElements).ConfigureAwait(false);
        Remember(context, nextKey, merged);
        // The previous round's statistics and shards are no longer read by anyone (a retry of this Decide reads this
        // round's); Redis and DynamoDB free them now rather than at their TTL.
        if (channel.DeletesRounds && round > 0)
            await channel.DeleteRoundAsync(runId, round - 1, job.Dataset.Partitions, layout.Shards).ConfigureAwait(false);
        var metrics = new RoundMetrics
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
            Usage = roundUsage,
            Action = decision.Action,
            Reason = decision.Reason.Length > 0 ? decision.Reason : null,
            Gap = certificate?.Gap,
            RelativeGap = relativeGap,
        };
        var next = state with
        {
            Round = round + 1,
            RoundsThisExecution = state.RoundsThisExecution + 1,
            PreviousLoss = trainLoss,
            ValidationLoss = eval?.MeanLoss,
            ValidationMetric = eval?.Accuracy,
            MetricName = eval is null ? null : model.MetricName,
            FirstLoss = state.FirstLoss ?? trainLoss,
            RelativeGap = relativeGap,
            StallRounds = decision.StallRounds,
            CostUsd = cost,
            Usage = (state.Usage ?? ResourceUsage.None).Plus(roundUsage),
            PreviousElapsedSeconds = elapsed,
            Action = decision.Action,
            Reason = decision.Reason,
            Workers = null,
            Merged = null,
            FailedWorkers = failedPartitions.Length > 0 ? failedPartitions.Length : null,
            FailedPartitions = failedPartitions.Length > 0 || state.FailedPartitions is not null
                ? [.. (state.FailedPartitions ?? []).Union(failedPartitions).Order()]
                : null,
            TotalFailedWorkers = state.TotalFailedWorkers + failedPartitions.Length,
            TreeLevel = null,
        };
        // The record is the round's commit point (written after the model it points to); metrics.jsonl follows it.
        await RunRecords.WriteAsync(store, runId, new RoundRecord(metrics, next)).ConfigureAwait(false);
        await AppendMetricsAsync(store, runId, metrics).ConfigureAwait(false);
        await SpentRounds.DeleteAsync(context, job, algorithm, layout, runId, round).ConfigureAwait(false);
        return next;
    }

    /// <summary>Whether workers write a state object each round (one more PUT and GET per worker); a partition of one row
    /// tells an algorithm whose state is sized by rows (CoCoA+) from one with none.</summary>

    /// <summary>The round's certificate when the algorithm gives one: the workers' conjugates merged by sample weight
    /// in partition order, the shards' slope products added in shard order (<see cref="DualityGap"/>).</summary>
    private static DualityGap.Certificate? Certify(List<WorkerOutput> workers, MergeOutput[]? merged, double primal, double l2)
    {
        if (merged is null || merged.Length == 0 || merged.Any(m => m.Dual is null) || workers.Any(w => w.ConjugatePositive is null || w.ConjugateNegative is null))
            return null;
        double samples = 0, positive = 0, negative = 0;
        foreach (var w in workers.OrderBy(w => w.Partition))
        {
            samples += w.Samples;
            positive += w.Samples * w.ConjugatePositive!.Value;
            negative += w.Samples * w.ConjugateNegative!.Value;
        }
        var products = new DualityGap.Products();
        foreach (var m in merged.OrderBy(m => m.Shard)) products += DualityGap.Products.FromArray(m.Dual);
        return new DualityGap.Certificate(primal, DualityGap.DualBound(positive / samples, negative / samples, products, l2));
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
    /// a retried Decide leaves exactly one line per round (S3 objects cannot be appended to). A damaged metrics.jsonl
    /// (truncated, edited) is rebuilt from the per-round records instead of failing every later round.</summary>
    internal static async Task AppendMetricsAsync(IObjectStore store, string runId, RoundMetrics metrics)
    {
        var lines = await RunRecords.TryReadMetricsAsync(store, runId).ConfigureAwait(false);
        // Damaged, missing, or cut at a line boundary (every earlier round must be there): rebuilt from the records.
        var complete = lines is not null && lines.Where(m => m.Round < metrics.Round).Select(m => m.Round).Distinct().Count() == metrics.Round;
        if (!complete && metrics.Round > 0)
        {
            var damaged = new List<string>();
            lines = await RunRecords.RebuildMetricsAsync(store, runId, metrics.Round, damaged).ConfigureAwait(false);
            Console.Error.WriteLine($"warning: {RunLayout.Metrics(runId)} was missing or damaged; rebuilt from {lines.Count} round records"
                + (damaged.Count > 0 ? $" (unreadable: {string.Join(", ", damaged)})" : ""));
        }
        lines ??= [];
        lines.RemoveAll(m => m.Round >= metrics.Round);
        lines.Add(metrics);
        await RunRecords.WriteMetricsAsync(store, runId, lines).ConfigureAwait(false);
    }

    /// <summary>metrics.jsonl as it is (empty when missing or damaged), for displays.</summary>
    public static async Task<IReadOnlyList<RoundMetrics>> ReadMetricsAsync(IObjectStore store, string runId) =>
        await RunRecords.TryReadMetricsAsync(store, runId).ConfigureAwait(false) ?? [];

    /// <summary>The run's metrics: metrics.jsonl when it is readable and complete, else rebuilt from the records
    /// (and rewritten); unreadable records are named in <paramref name="damaged"/>.</summary>
    public static async Task<IReadOnlyList<RoundMetrics>> ReadMetricsAsync(IObjectStore store, string runId, long rounds, List<string> damaged)
    {
        var lines = await RunRecords.TryReadMetricsAsync(store, runId).ConfigureAwait(false);
        if (lines is not null && lines.Count == rounds && lines.Select((m, i) => m.Round == i).All(x => x)) return lines;
        return await RunRecords.RebuildMetricsAsync(store, runId, rounds, damaged).ConfigureAwait(false);
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
