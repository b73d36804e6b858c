using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Models;
using StepML.Core.Training;
using StepML.Storage;
using StepML.Storage.Channels;

namespace StepML.Functions;

/// <summary>
/// One invocation of an asynchronous worker (communication.synchronization "async"): from the updates it has applied so
/// far, it repeats read the current model → compute its contribution on its partition → apply it atomically
/// (<see cref="AtomicModel"/>, <see cref="AsyncUpdate"/>) until it has applied stop.maxRounds updates, or its round
/// budget (the same time budget as a synchronous round, inside the Worker timeout) is spent after at least one
/// update. The ASL's AsyncWorkers loop invokes it again until it answers <c>done</c>. The first invocation of every
/// worker offers model/0.tensor as version 1; one of them wins.
/// </summary>
public static class AsyncWorkerStep
{
    public static async Task<WorkerOutput> RunAsync(FunctionContext context, WorkerInput input)
    {
        var clock = Stopwatch.StartNew();
        var started = context.Time.GetTimestamp();
        var (job, model, algorithm, _) = await RunSetup.LoadAsync(context, input.RunId).ConfigureAwait(false);
        if (!job.Communication.IsAsync)
            throw new InvalidInputException($"Worker: run '{input.RunId}' is not asynchronous (communication.synchronization is \"{job.Communication.Synchronization}\")");
        if (input.Partition < 0 || input.Partition >= job.Dataset.Partitions)
            throw new InvalidInputException($"Worker: partition {input.Partition} does not exist; run '{input.RunId}' has {job.Dataset.Partitions}");
        var n = model.ParameterCount;
        var length = (long)n * (1 + algorithm.OptimizerStateStride);
        var shared = new AtomicModel(context.Channel(job), input.RunId);
        var done = input.Steps ?? 0;
        if (done == 0)
        {
            var initial = new float[length];
            (await TensorIo.ReadAsync(context.Store, RunLayout.Model(input.RunId, 0), n).ConfigureAwait(false)).CopyTo(initial, 0);
            await shared.InitializeAsync(initial).ConfigureAwait(false);
        }
        var data = await context.Cache.RunPartitionAsync(input.RunId, input.Partition).ConfigureAwait(false);
        var mask = new float[n];
        model.RegularizationMask(mask);
        var budget = WorkerStep.Budget(context, started);
        var contribution = new float[n];
        long steps = 0, samples = 0, conflicts = input.Conflicts ?? 0;
        double lossSum = 0;
        var total = (long)job.Stop.MaxRounds;
        while (done + steps < total && (steps == 0 || !budget.IsSpent))
        {
            var snapshot = await shared.ReadAsync(length).ConfigureAwait(false);
            var start = snapshot.Values.AsMemory(0, n);
            // The worker's step index, not the global version, picks its mini-batch: each partition cycles through its rows.
            var work = new Core.Algorithms.WorkerInput(model, data, input.Partition, done + steps, job.Seed) { Budget = budget };
            var result = AsyncUpdate.Contribute(algorithm, work, start.Span, contribution);
            if (!double.IsFinite(result.Loss) || !WorkerStep.AllFinite(contribution))
                throw new TrainingDivergedException($"asynchronous step {done + steps}, partition {input.Partition}: the update is not finite (loss {result.Loss}); lower algorithm.learningRate");
            var applied = await shared.UpdateAsync(snapshot, (version, current, next) =>
                AsyncUpdate.Apply(algorithm, version - 1, n, job.Dataset.Partitions, contribution, start.Span, mask, current, next)).ConfigureAwait(false);
            steps++;
            conflicts += applied.Conflicts;
            samples += result.Samples;
            lossSum += result.Samples * result.Loss;
        }
        return new WorkerOutput
        {
            Partition = input.Partition, Samples = samples, Loss = samples > 0 ? lossSum / samples : 0, Seconds = clock.Elapsed.TotalSeconds,
            Steps = done + steps, Done = done + steps >= total, Conflicts = conflicts,
        };
    }
}
