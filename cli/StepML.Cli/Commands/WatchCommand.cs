using System.CommandLine;
using StepML.Cli.Runs;
using StepML.Functions;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml watch RUN</c>: follows a run, local or in the cloud, from what its steps write to the store
/// (metrics.jsonl after each round, final.json or failure.json at the end), polling; no Step Functions API needed.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run id" };
        var store = StoreOption();
        var interval = new Option<double>("--interval") { Description = "Seconds between polls of the store", DefaultValueFactory = _ => 2.0 };
        var command = new Command("watch", "Follow a running or finished run: each round's loss, validation, workers failed and cost so far as it lands in the store; exits when the run ends (0 finished, 1 failed)")
        {
            run, store, interval,
        };
        command.SetAction(async (parse, ct) =>
        {
            var runId = ObjectKey.ValidateRunId(parse.GetValue(run)!, "RUN");
            var seconds = parse.GetValue(interval);
            // At most a day: a larger value overflows TimeSpan (OverflowException) and means no polling anyway.
            if (!(seconds is > 0 and <= 86_400)) throw new UsageException($"--interval {seconds}: give a positive number of seconds, at most 86400 (a day)");
            return await WatchAsync(OpenExistingStore(parse.GetValue(store)!), runId, TimeSpan.FromSeconds(seconds), Console.Out, ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Prints each new round, then the outcome; returns the exit code (0 finished, 1 failed).</summary>
    /// <summary>Consecutive polls that may fail (a read racing a write) before the watch gives up with the error.</summary>
    private const int MaxFailedPolls = 5;

    internal static async Task<int> WatchAsync(IObjectStore store, string runId, TimeSpan interval, TextWriter output, CancellationToken ct)
    {
        var reader = new RunReader(store);
        if (!await reader.ExistsAsync(runId, ct).ConfigureAwait(false))
            throw new UsageException($"run '{runId}' does not exist in {store.Uri} (no {RunLayout.Job(runId)}): check the run id and --store; `stepml runs{StoreHint(store)}` lists the runs");
        var job = await reader.JobAsync(runId, ct).ConfigureAwait(false);
        await output.WriteLineAsync($"watching {runId} in {store.Uri}: {job.Model.Type}, {job.Algorithm.Type}, {job.Dataset.Partitions} partitions").ConfigureAwait(false);
        var printed = 0;
        var failedPolls = 0;
        while (true)
        {
            RunOverview overview;
            try
            {
                overview = await reader.OverviewAsync(runId, ct).ConfigureAwait(false);
                failedPolls = 0;
            }
            catch (Exception e) when (e is not OperationCanceledException && ++failedPolls < MaxFailedPolls)
            {
                // The steps rewrite metrics.jsonl while the run goes on; a read that meets a write in progress (or a
                // store that hiccups) is retried at the next poll. Only MaxFailedPolls in a row end the watch.
                await Task.Delay(interval, ct).ConfigureAwait(false);
                continue;
            }
            for (; printed < overview.RoundMetrics.Count; printed++)
                await output.WriteLineAsync(RoundLine(overview.RoundMetrics[printed])).ConfigureAwait(false);
            switch (overview.Status)
            {
                case RunStatus.Finished:
                    var f = overview.Final!;
                    await output.WriteLineAsync($"finished after {f.Rounds} rounds ({f.StopReason}): training loss {F(f.TrainLoss)}, validation loss {(f.ValidationLoss is { } vl ? F(vl) : "–")}" +
                        $"{RunCommand.MetricText(f.Metric, f.ValidationMetric, ", ")}; estimated cost ${f.CostUsd:F5}").ConfigureAwait(false);
                    await output.WriteLineAsync($"  model {Location(store, f.ModelKey)}; report {Location(store, RunLayout.Report(runId))}").ConfigureAwait(false);
                    return 0;
                case RunStatus.Failed:
                    var failure = overview.Failure!;
                    await output.WriteLineAsync($"failed after {overview.RoundMetrics.Count} rounds: {failure.Error}: {RunCommand.CauseMessage(failure.Cause)}").ConfigureAwait(false);
                    return 1;
            }
            await Task.Delay(interval, ct).ConfigureAwait(false);
        }
    }

    internal static string RoundLine(RoundMetrics r)
    {
        var validation = r.ValidationLoss is { } vl
            ? $"  val loss {F(vl)}" + (r.ValidationMetric is not { } m ? "" : r.Metric == "accuracy" ? $"  acc {Percent(m)}" : $"  {r.Metric} {F(m, "G6")}")
            : "";
        var failed = r.FailedWorkers > 0 ? $"  {r.FailedWorkers} of {r.Workers} workers failed" : $"  {r.Workers} workers";
        return $"round {r.Round,4}  loss {F(r.TrainLoss)}{validation}{failed}  elapsed {r.ElapsedSeconds,6:F1} s  cost ${r.CostUsd:F5}" +
            (r.Action is "stop" ? $"  -> stop: {r.Reason}" : "");
    }
}
