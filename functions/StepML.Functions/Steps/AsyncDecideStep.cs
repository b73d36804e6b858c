using StepML.Core.Cost;
using StepML.Core.Models;
using StepML.Storage;
using StepML.Storage.Channels;
using StepML.Storage.Ledger;

namespace StepML.Functions;

/// <summary>
/// Closes an asynchronous run (communication.synchronization "async") once every worker's loop has ended: reads the
/// current model version from the channel, checks that it counts exactly the updates the workers applied (the register's
/// version − 1 = the workers' steps summed; fewer would be a lost update, <see cref="LostUpdateException"/>), evaluates it on
/// the training and validation partitions, and writes it as model/1.tensor with one metrics line (round 0 stands for the
/// whole asynchronous phase, which has no rounds), then stops. The result depends on the interleaving of the workers and
/// is not reproducible bit for bit.
/// </summary>
public static class AsyncDecideStep
{
    public static async Task<RunState> RunAsync(FunctionContext context, RunState state)
    {
        var started = context.Time.GetTimestamp();
        var store = context.Store;
        var runId = state.RunId;
        await context.Ledger.EnsureOwnerAsync(runId, state.Owner
            ?? throw new InvalidInputException("Decide: the state has no 'owner' (Prepare sets it; the run ledger needs it)")).ConfigureAwait(false);
        var (job, model, algorithm, layout) = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var workers = state.Workers ?? throw new InvalidInputException("Decide: the state has no 'workers' (the AsyncWorkers map's results)");
        var ok = workers.Where(w => w.Partition is not null && w.Steps is not null).ToList();
        if (ok.Count == 0) throw new NoStatisticsException(runId, 0);
        var steps = ok.Sum(w => w.Steps!.Value);
        var n = model.ParameterCount;
        var snapshot = await new AtomicModel(context.Channel(job), runId).ReadAsync((long)n * (1 + algorithm.OptimizerStateStride)).ConfigureAwait(false);
        var applied = snapshot.Version - 1;
        // A worker invocation retried after its update landed (a timeout on the way back) applies that update again, so
        // more updates than steps can happen; fewer cannot, unless an update was lost.
        if (applied < steps) throw new LostUpdateException(runId, applied, steps);
        var final = snapshot.Values.AsSpan(0, n).ToArray();
        if (!WorkerStep.AllFinite(final))
            throw new Core.Training.TrainingDivergedException($"the asynchronous model is not finite after {applied} updates; model/0.tensor is the last good model. Lower algorithm.learningRate");

        var train = new Evaluation();
        for (var p = 0; p < job.Dataset.Partitions; p++)
            {
            var data = await context.Cache.RunPartitionAsync(runId, p).ConfigureAwait(false);
            train += model.Evaluate(final, data);
        }
        var mask = new float[n];
        model.RegularizationMask(mask);
        var trainLoss = train.MeanLoss + Models.Regularization(final, mask, job.Model.L2, job.Model.L1);
        var validation = await context.Cache.ValidationAsync(runId).ConfigureAwait(false);
        Evaluation? eval = validation.Rows > 0 ? model.Evaluate(final, validation) : null;
        await TensorIo.WriteAsync(store, RunLayout.Model(runId, 1), final, 1, layout.BlockElements).ConfigureAwait(false);

        var elapsed = (context.Time.GetUtcNow().ToUnixTimeMilliseconds() - state.StartedAtMs) / 1000.0;
        var conflicts = ok.Sum(w => w.Conflicts ?? 0);
        // The workers' stored counts hold every invocation and its seconds (the ASL's result holds only the last one's).
        var loops = new List<AsyncWorkerUsage>();
        for (var p = 0; p < job.Dataset.Partitions; p++)
            loops.Add((await AsyncProgress.ReadAsync(store, runId, p).ConfigureAwait(false)).Usage);
        var usage = AsyncUsage.Of(RoundShape.Of(job, n, algorithm), FunctionContext.Memory.For(job), loops,
            (long)n * (1 + algorithm.OptimizerStateStride) * sizeof(float), context.Time.GetElapsedTime(started).TotalSeconds, elapsed);
        var total = (state.Usage ?? ResourceUsage.None).Plus(usage);
        var cost = CostModel.Price(total, job.Communication.Channel, context.Settings.Architecture == "arm64").TotalUsd;
        var reason = $"asynchronous: {applied} updates applied ({steps} worker steps, {job.Stop.MaxRounds} per worker; {conflicts} retried after another worker's update came first)";
        var metrics = new RoundMetrics
        {
            Round = 0, TrainLoss = trainLoss, ValidationLoss = eval?.MeanLoss,
            ValidationAccuracy = model.MetricName == "accuracy" ? eval?.Accuracy : null, Metric = model.MetricName, ValidationMetric = eval?.Accuracy,
            Samples = ok.Sum(w => w.Samples), Workers = ok.Count, FailedWorkers = workers.Length - ok.Count,
            WorkerSeconds = loops.Sum(w => w.Seconds), ElapsedSeconds = elapsed, CostUsd = cost, Usage = usage, Action = "stop", Reason = reason,
        };
        var next = state with
        {
            Round = 1, RoundsThisExecution = 1, PreviousLoss = trainLoss, FirstLoss = state.FirstLoss ?? trainLoss,
            ValidationLoss = eval?.MeanLoss, ValidationMetric = eval?.Accuracy, MetricName = eval is null ? null : model.MetricName,
            Action = "stop", Reason = reason, Workers = null, AppliedUpdates = applied, CostUsd = cost, Usage = total, PreviousElapsedSeconds = elapsed,
        };
        await RunRecords.WriteAsync(store, runId, new RoundRecord(metrics, next)).ConfigureAwait(false);
        await DecideStep.AppendMetricsAsync(store, runId, metrics).ConfigureAwait(false);
        return next;
    }
}

/// <summary>The asynchronous model counts fewer updates than the workers applied: an update was lost, which the atomic
/// read-modify-write exists to prevent.</summary>
public sealed class LostUpdateException(string runId, long applied, long steps)
    : Exception($"run '{runId}': the asynchronous model counts {applied} updates but the workers applied {steps}; an update was lost (the channel's compare-and-swap is not atomic?)");
