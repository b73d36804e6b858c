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
/// worker offers model/0.tensor as version 1; one of them wins. After each invocation the worker's count is stored
/// (<see cref="RunLayout.AsyncProgress"/>), so a run resumed after an interruption continues every worker from the
/// updates it applied rather than applying stop.maxRounds more.
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
        // The ASL's count, or the stored one when that is further on: a resumed run starts its loops at 0, and a retried
        // invocation whose updates landed has already recorded them.
        var recorded = await AsyncProgress.ReadAsync(context.Store, input.RunId, input.Partition).ConfigureAwait(false);
        var done = Math.Max(input.Steps ?? 0, recorded.Steps);
        long conflicts = done == recorded.Steps ? Math.Max(recorded.Conflicts, input.Conflicts ?? 0) : input.Conflicts ?? 0;
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
        long steps = 0, samples = 0;
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
        // Every invocation is counted (and billed), the last one of a finished worker that a resume asks again too.
        await AsyncProgress.WriteAsync(context.Store, input.RunId, input.Partition,
            new AsyncProgress(done + steps, conflicts, recorded.Invocations + 1, recorded.Seconds + clock.Elapsed.TotalSeconds)).ConfigureAwait(false);
        return new WorkerOutput
        {
            Partition = input.Partition, Samples = samples, Loss = samples > 0 ? lossSum / samples : 0, Seconds = clock.Elapsed.TotalSeconds,
            Steps = done + steps, Done = done + steps >= total, Conflicts = conflicts,
        };
    }
}

/// <summary>One asynchronous worker's count of applied updates, and of its invocations and their seconds (what the run is
/// billed for), kept in the store (<see cref="RunLayout.AsyncProgress"/>).</summary>
internal sealed record AsyncProgress(long Steps, long Conflicts, long Invocations, double Seconds)
{
    public Core.Cost.AsyncWorkerUsage Usage => new(Invocations, Seconds, Steps, Conflicts);

    public static async Task<AsyncProgress> ReadAsync(IObjectStore store, string runId, int partition)
    {
        var key = RunLayout.AsyncProgress(runId, partition);
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(await store.GetAsync(key).ConfigureAwait(false));
            return new AsyncProgress(node!["steps"]!.GetValue<long>(), node["conflicts"]!.GetValue<long>(),
                node["invocations"]!.GetValue<long>(), node["seconds"]!.GetValue<double>());
        }
        catch (ObjectNotFoundException)
        {
            return new AsyncProgress(0, 0, 0, 0);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{key} is damaged ({e.Message}); it holds the number of updates worker {partition} applied. " +
                "Delete it and resume: the worker then applies stop.maxRounds updates again", e);
        }
    }

    public static Task WriteAsync(IObjectStore store, string runId, int partition, AsyncProgress progress) =>
        store.PutAsync(RunLayout.AsyncProgress(runId, partition), System.Text.Encoding.UTF8.GetBytes(new System.Text.Json.Nodes.JsonObject
        {
            ["steps"] = progress.Steps, ["conflicts"] = progress.Conflicts, ["invocations"] = progress.Invocations, ["seconds"] = progress.Seconds,
        }.ToJsonString()));
}
