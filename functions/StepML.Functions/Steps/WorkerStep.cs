using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>One worker of one round: loads its partition and the global model, computes the algorithm's statistic,
/// writes it (and its local state) under keys of this round, and returns only scalars.</summary>
public static class WorkerStep
{
    public static async Task<WorkerOutput> RunAsync(FunctionContext context, WorkerInput input)
    {
        if (input.Async == true) return await AsyncWorkerStep.RunAsync(context, input).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var started = context.Time.GetTimestamp();
        var store = context.Store;
        var (job, model, algorithm, layout) = await RunSetup.LoadAsync(context, input.RunId).ConfigureAwait(false);
        if (input.Partition < 0 || input.Partition >= job.Dataset.Partitions)
            throw new InvalidInputException($"Worker: partition {input.Partition} does not exist; run '{input.RunId}' has {job.Dataset.Partitions}");
        var n = model.ParameterCount;
        var data = await context.Cache.RunPartitionAsync(input.RunId, input.Partition).ConfigureAwait(false);
        var global = await TensorIo.ReadAsync(store, RunLayout.Model(input.RunId, input.Round), n).ConfigureAwait(false);

        var stateLength = algorithm.WorkerStateLength(n, data.Rows);
        var previous = stateLength > 0 && input.Round > 0
            ? await ReadPreviousStateAsync(store, input, stateLength).ConfigureAwait(false)
            : [];
        var state = new float[stateLength];
        var statistic = new float[(long)n * algorithm.StatisticStride];
        var work = new Core.Algorithms.WorkerInput(model, data, input.Partition, input.Round, job.Seed) { Budget = Budget(context, started) };
        var result = algorithm.Work(work, global, previous, state, statistic);
        if (!double.IsFinite(result.Loss) || !AllFinite(statistic))
            throw new TrainingDivergedException($"round {input.Round}, partition {input.Partition}: the statistic is not finite (loss {result.Loss}); lower algorithm.learningRate");

        await TensorIo.WriteAsync(context.Channel(job), RunLayout.Statistic(input.RunId, input.Round, input.Partition), statistic, input.Round, layout.BlockElements * algorithm.StatisticStride).ConfigureAwait(false);
        if (stateLength > 0)
            await TensorIo.WriteAsync(store, RunLayout.WorkerState(input.RunId, input.Partition, input.Round), state, input.Round, TensorCodec.MaxBlockElements, PutOptions.Statistic).ConfigureAwait(false);
        return new WorkerOutput
        {
            Partition = input.Partition, Samples = result.Samples, Loss = result.Loss, Seconds = clock.Elapsed.TotalSeconds,
            BudgetCut = result.BudgetCut ? true : null,
            ConjugatePositive = result.Conjugates?.Positive, ConjugateNegative = result.Conjugates?.Negative,
        };
    }

    /// <summary>Local work stops <see cref="FunctionSettings.WorkerRoundSeconds"/> after the handler started, leaving the rest
    /// of the function's timeout to write the statistic.</summary>
    internal static WorkBudget Budget(FunctionContext context, long started) =>
        new(context.Time, context.Settings.WorkerRoundSeconds > 0 ? TimeSpan.FromSeconds(context.Settings.WorkerRoundSeconds) : TimeSpan.MaxValue,
            started, FunctionContext.Invocation);

    /// <summary>The worker's state from the previous round. A worker whose previous round failed (a tolerated failure)
    /// has none: it starts over from the global model, as in round 0 (for ADMM: x_i = z, u_i = 0).</summary>
    private static async Task<float[]> ReadPreviousStateAsync(IObjectStore store, WorkerInput input, int length)
    {
        try
        {
            return await TensorIo.ReadAsync(store, RunLayout.WorkerState(input.RunId, input.Partition, input.Round - 1), length).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return [];
        }
    }

    internal static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }
}
