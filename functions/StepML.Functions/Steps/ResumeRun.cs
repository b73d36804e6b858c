using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Training;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Functions;

/// <summary>
/// Prepare's two ways into an existing run. Continue-as-new (<c>{"resume": state}</c> carrying the owner) hands
/// the run from the previous execution to this one. A user's resume (<c>{"resume": {"runId": ..., "maxRounds":
/// N, "force": true}}</c>, or <c>stepml resume</c>) takes the run over from a finished, failed or dead owner and
/// continues from the last round whose record is readable: that record holds the exact state the next round starts
/// from, so the result is bit-identical to an uninterrupted run.
/// </summary>
internal static class ResumeRun
{
    public static async Task<RunState> RunAsync(FunctionContext context, JsonObject resume, string owner)
    {
        if (resume["owner"] is not null) return await ContinueAsNewAsync(context, resume, owner).ConfigureAwait(false);
        if (resume["runId"] is JsonValue v && v.TryGetValue<string>(out var named) && !await context.Store.ExistsAsync(RunLayout.Job(ObjectKey.ValidateRunId(named))).ConfigureAwait(false))
            throw new RunNotFoundException(named, context.Store.Uri, new ObjectNotFoundException(context.Store.Uri, RunLayout.Job(named)));
        var request = ParseRequest(resume);
        return await ResumeAsync(context, request.RunId, request.MaxRounds, request.Force, owner).ConfigureAwait(false);
    }

    private static async Task<RunState> ContinueAsNewAsync(FunctionContext context, JsonObject resume, string owner)
    {
        RunState state;
        try
        {
            state = resume.Deserialize(ContractJson.Default.RunState) ?? throw new InvalidInputException("Prepare: 'resume' is null");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Prepare: 'resume' is not a run state: {e.Message}", e);
        }
        await context.Ledger.HandOverAsync(state.RunId, state.Owner!, owner, context.Settings.Process).ConfigureAwait(false);
        await context.Cache.JobAsync(state.RunId).ConfigureAwait(false);
        return state with { Owner = owner, RoundsThisExecution = 0, Action = null, Reason = null, Workers = null, Merged = null };
    }

    /// <summary>The optimizer state round <paramref name="round"/> reads (momentum, Adam's moments). Decide deletes a
    /// round's state two rounds later and <c>stepml gc</c> all but the last round's, so a resume that had to fall back
    /// further, past damaged records, finds it gone: refused before anything changes, rather than a Merge that fails
    /// or a run that silently restarts its momentum. (Worker state that is missing is what a tolerated worker failure
    /// leaves too: that worker starts over from the global model, as the workers do by design.)</summary>
    private static async Task EnsureStateAsync(IObjectStore store, RunSetup setup, string runId, long round, List<string> damaged)
    {
        if (round == 0 || setup.Algorithm.OptimizerStateStride == 0) return;
        for (var s = 0; s < setup.Layout.Shards; s++)
        {
            var key = RunLayout.Optimizer(runId, round - 1, s);
            if (await store.ExistsAsync(key).ConfigureAwait(false)) continue;
            var why = damaged.Count == 0 ? "" : $" (the later records are unreadable: {string.Join(", ", damaged.Distinct())})";
            throw new RunNotResumableException($"run '{runId}' cannot continue from round {round}{why}: {key}, the optimizer state " +
                "that round reads, is gone (a round's state is deleted two rounds later, and by stepml gc); " +
                "start a new run (stepml run with another runId) to train this job again");
        }
    }

    private static (string RunId, int? MaxRounds, bool Force) ParseRequest(JsonObject resume)
    {
        var runId = resume["runId"] is JsonValue id && id.TryGetValue<string>(out var text) ? text
            : throw new InvalidInputException("Prepare: resume.runId must be the run id to continue, e.g. {\"resume\": {\"runId\": \"my-run-20260101-120000-ab12\"}}");
        ObjectKey.ValidateRunId(runId);
        foreach (var (name, _) in resume)
            if (name is not ("runId" or "maxRounds" or "force"))
                throw new InvalidInputException($"Prepare: resume.{name} is not a field of a resume request; use {{\"resume\": {{\"runId\": \"{runId}\", \"maxRounds\": N, \"force\": true}}}}");
        int? maxRounds = null;
        if (resume["maxRounds"] is { } m)
            maxRounds = m is JsonValue mv && mv.TryGetValue<int>(out var n) && n >= 1 ? n
                : throw new InvalidInputException($"Prepare: resume.maxRounds must be a whole number ≥ 1, not {m.ToJsonString()}");
        var force = resume["force"] is JsonValue f && f.TryGetValue<bool>(out var b) && b;
        return (runId, maxRounds, force);
    }

    public static async Task<RunState> ResumeAsync(FunctionContext context, string runId, int? maxRounds, bool force, string owner)
    {
        var store = context.Store;
        var setup = await RunSetup.LoadAsync(context, runId).ConfigureAwait(false);
        var job = setup.Job;

        // Read-only until the take-over, so a refused resume leaves the run exactly as it was.
        var damaged = new List<string>();
        RoundRecord? last = null;
        foreach (var round in await RunRecords.RoundsAsync(store, runId).ConfigureAwait(false))
        {
            var record = await RunRecords.TryReadAsync(store, runId, round, damaged).ConfigureAwait(false);
            if (record is null) continue;
            if (await store.ExistsAsync(RunLayout.Model(runId, record.Next.Round)).ConfigureAwait(false)) { last = record; break; }
            damaged.Add($"{RunLayout.Record(runId, round)} (its model {RunLayout.Model(runId, record.Next.Round)} is missing)");
        }
        var now = context.Time.GetUtcNow().ToUnixTimeMilliseconds();
        RunState state;
        if (last is null)
        {
            if (!await store.ExistsAsync(RunLayout.Model(runId, 0)).ConfigureAwait(false))
            {
                // Killed inside Prepare: redo it from job.json (partitioning is deterministic, so this is the run it
                // would have been).
                await context.Ledger.TakeOverAsync(runId, owner, context.Settings.Process, force).ConfigureAwait(false);
                await RecordFailureStep.ArchiveAsync(context, runId).ConfigureAwait(false);
                var prepared = await PrepareStep.StartRunAsync(context, job, $"{RunLayout.Job(runId)}: Prepare did not finish before; redone by the resume", owner).ConfigureAwait(false);
                return prepared with { MaxRounds = maxRounds };
            }
            state = PrepareStep.FirstState(context, job, runId, now, "");
        }
        else
        {
            // Elapsed time continues from the record: the time the run lay dead does not count against stop.maxSeconds.
            state = last.Next with { StartedAtMs = now - (long)(last.Metrics.ElapsedSeconds * 1000) };
        }
        // An asynchronous run has one phase and one record; training it further would write that phase's model and
        // record again over the finished run's.
        if (job.Communication.IsAsync && last?.Next.Action == Actions.Stop)
            throw new RunNotResumableException($"run '{runId}' is asynchronous and finished ({last.Next.Reason}); an asynchronous run trains once, " +
                $"so it cannot be trained further: start a new run (another runId) with a larger stop.maxRounds");
        if (job.Communication.IsAsync && maxRounds is { } asked && asked != job.Stop.MaxRounds)
            throw new InvalidInputException($"Prepare: resume.maxRounds (--max-rounds) {asked} does not apply to run '{runId}': it is asynchronous, " +
                $"and its workers apply stop.maxRounds = {job.Stop.MaxRounds} updates each; resume it without --max-rounds");
        var effectiveMax = maxRounds ?? state.MaxRounds ?? job.Stop.MaxRounds;
        if (last?.Next.Action == Actions.Stop && effectiveMax <= state.Round)
            throw new RunNotResumableException($"run '{runId}' stopped after {state.Round} rounds ({last.Next.Reason}); to train further resume it with a larger stop.maxRounds (--max-rounds {state.Round + 10}, or \"maxRounds\" in the resume input)");

        await EnsureStateAsync(store, setup, runId, state.Round, damaged).ConfigureAwait(false);

        await context.Ledger.TakeOverAsync(runId, owner, context.Settings.Process, force).ConfigureAwait(false);
        await RecordFailureStep.ArchiveAsync(context, runId).ConfigureAwait(false);
        await RunRecords.RebuildMetricsAsync(store, runId, state.Round, damaged).ConfigureAwait(false);
        var note = damaged.Count == 0 ? "" : $"; unreadable records skipped: {string.Join(", ", damaged.Distinct())}";
        return state with
        {
            Owner = owner,
            MaxRounds = maxRounds ?? state.MaxRounds,
            RoundsThisExecution = 0,
            Action = null,
            Reason = $"resumed from round {state.Round}{note}",
            Workers = null,
            Merged = null,
        };
    }
}

/// <summary>The run cannot be resumed as asked (never prepared, or already stopped without a larger
/// stop.maxRounds); nothing was changed.</summary>
public sealed class RunNotResumableException(string message) : Exception(message);
