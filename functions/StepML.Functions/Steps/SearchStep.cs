using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Core.Search;
using StepML.Functions.Search;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// The three Task states of statemachines/search.asl.json. Plan validates the spec against its base job, lays out the
/// trials and launches the first one alone (it makes the partition set every other trial reuses: partitions are
/// content-addressed, and runs started together would each make them). Rank reads each finished trial's final.json,
/// records it in the trial table and picks the next batch: the rest of the rung, or the survivors of a finished rung
/// (successive halving: the best ⌈n/η⌉ by validation loss, resumed to the next rung's rounds), until the last rung or
/// the dollar budget. Finish picks the best trial and writes result.json and the report.
/// </summary>
internal static class SearchStep
{
    public static async Task<SearchState> PlanAsync(FunctionContext context, JsonObject input)
    {
        var specNode = input["spec"] as JsonObject ?? throw new SearchSpecException("$", "the search input must be a search spec object");
        var spec = SearchSpecParser.Parse(specNode);
        var baseJob = spec.Job ?? await ReadJobAsync(context.Store, spec.JobKey!).ConfigureAwait(false);
        var rounds = SearchPlanner.Validate(spec, baseJob);
        var now = context.Time.GetUtcNow();
        var searchId = $"{spec.Name}-{now:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        var rungs = SearchPlanner.Rungs(spec, rounds).ToArray();
        var trials = SearchPlanner.Trials(spec).Select((parameters, i) => new TrialRecord
        {
            Trial = i, RunId = SearchLayout.TrialRunId(searchId, i), Parameters = parameters, Rungs = [],
        }).ToArray();
        // Every trial's job passes the job parser before anything runs (combinations included), naming the trial.
        foreach (var t in trials)
        {
            try
            {
                JobSpecParser.Parse(SearchPlanner.TrialJob(baseJob, t.Parameters, t.RunId, rungs[0]).ToJsonString());
            }
            catch (JobSpecException e)
            {
                throw new SearchSpecException("parameters", $"trial {t.Trial} ({t.Parameters.ToJsonString()}): {e.Message}");
            }
        }
        specNode = (JsonObject)specNode.DeepClone();
        specNode["job"] = baseJob.DeepClone();
        await context.Store.PutAsync(SearchLayout.Spec(searchId), Encoding.UTF8.GetBytes(specNode.ToJsonString())).ConfigureAwait(false);
        var table = new TrialTable(searchId, spec.Strategy.Type, rungs, trials, Batches: 1);
        await WriteTableAsync(context.Store, table).ConfigureAwait(false);
        return new SearchState
        {
            SearchId = searchId, Rung = 0, RungRounds = rungs, MaxConcurrency = spec.MaxConcurrency,
            Batch = [Launch(trials[0], 0, rungs, baseJob)],
        };
    }

    public static async Task<SearchState> RankAsync(FunctionContext context, SearchState state)
    {
        var store = context.Store;
        var table = await ReadTableAsync(store, state.SearchId).ConfigureAwait(false);
        var (spec, baseJob) = await ReadSpecAsync(store, state.SearchId).ConfigureAwait(false);
        var trials = table.Trials.ToArray();
        var launched = state.Batch.Select(b => b.Trial).ToHashSet();
        foreach (var outcome in state.Outcomes ?? [])
            trials[outcome.Trial] = await RecordAsync(store, trials[outcome.Trial], state.Rung, outcome).ConfigureAwait(false);
        // A launch the Map did not report on (it should not happen) counts as failed rather than planned forever.
        foreach (var t in launched.Where(t => trials[t].Status == "planned"))
            trials[t] = trials[t] with { Status = "failed", Error = "the Trials Map returned no outcome for this trial" };

        var next = Next(spec, state, trials, BatchLimit(baseJob), out var reason);
        var updated = table with { Trials = trials, Batches = table.Batches + (next.Length > 0 ? 1 : 0) };
        await WriteTableAsync(store, updated).ConfigureAwait(false);
        if (next.Length == 0) return state with { Batch = [], Outcomes = null, Done = true, Reason = reason };
        var rung = trials[next[0]].Rung;
        return state with { Rung = rung, Batch = next.Select(i => Launch(trials[i], rung, state.RungRounds, baseJob)).ToArray(), Outcomes = null };
    }

    // The next batch (trial indices; they are promoted in place), or none with the reason the search ends.
    // The batch travels in the state (256 KiB): a first-rung launch carries its whole job, so a batch holds at most as
    // many as fit in 192 KiB, leaving room for the outcomes the Map adds (a failed trial's cause repeats its input).
    private const int MaxBatchBytes = 192 * 1024;

    internal static int BatchLimit(JsonObject baseJob) => Math.Max(1, MaxBatchBytes / (2 * (baseJob.ToJsonString().Length + 512)));

    private static int[] Next(SearchSpec spec, SearchState state, TrialRecord[] trials, int batchLimit, out string reason)
    {
        reason = "";
        var spent = trials.Sum(t => t.CostUsd);
        if (spec.Budget.Dollars > 0 && spent >= spec.Budget.Dollars)
        {
            reason = $"budget.dollars reached: ${spent:F5} of ${spec.Budget.Dollars:F5} spent";
            return [];
        }
        var planned = trials.Where(t => t.Rung == state.Rung && t.Status == "planned").Select(t => t.Trial).ToArray();
        if (planned.Length > 0)
        {
            // Grid and random searches go in batches of MaxConcurrency, so the dollar budget is checked as they finish.
            var size = spec.Strategy.Type == SearchStrategies.SuccessiveHalving || spec.MaxConcurrency == 0 ? planned.Length : spec.MaxConcurrency;
            return planned.Take(Math.Min(size, batchLimit)).ToArray();
        }
        if (state.Rung == state.RungRounds.Length - 1)
        {
            reason = state.RungRounds.Length == 1 ? "every trial trained" : $"every rung trained ({string.Join(", ", state.RungRounds)} rounds)";
            return [];
        }
        var members = trials.Where(t => t.Rung == state.Rung).Select(t => (t.Trial, t.ValidationLoss)).ToArray();
        var survivors = SearchPlanner.Survivors(members, spec.Strategy.Reduction);
        if (survivors.Count == 0)
        {
            reason = $"no trial of rung {state.Rung} finished with a validation loss";
            return [];
        }
        foreach (var i in survivors) trials[i] = trials[i] with { Rung = state.Rung + 1, Status = "planned" };
        return survivors.Take(batchLimit).ToArray();
    }

    private static async Task<TrialRecord> RecordAsync(IObjectStore store, TrialRecord trial, int rung, TrialOutcome outcome)
    {
        FinalSummary? summary = null;
        if (outcome.Error is null && await store.ExistsAsync(RunLayout.FinalSummary(trial.RunId)).ConfigureAwait(false))
            summary = JsonSerializer.Deserialize(await store.GetAsync(RunLayout.FinalSummary(trial.RunId)).ConfigureAwait(false), ContractJson.Default.FinalSummary);
        if (summary is null)
        {
            var error = ChildError(outcome);
            return trial with { Status = "failed", Error = error, Rungs = [.. trial.Rungs, new RungPoint(rung, trial.Rounds, null, trial.CostUsd)] };
        }
        var cost = TrialCost(summary);
        return trial with
        {
            Status = "finished", Rounds = (int)summary.Rounds, ValidationLoss = summary.ValidationLoss, ValidationMetric = summary.ValidationMetric,
            Metric = summary.Metric, CostUsd = cost, Error = null,
            Rungs = [.. trial.Rungs, new RungPoint(rung, (int)summary.Rounds, summary.ValidationLoss, cost)],
        };
    }

    /// <summary>The dollars a trial has cost so far: its run's own estimate in final.json (cumulative over resumes).
    /// The one place the search reads cost, so a finer breakdown can replace it here.</summary>
    internal static double TrialCost(FinalSummary summary) => summary.CostUsd;

    // startExecution.sync's Cause is the child's DescribeExecution response: its Error and Cause say why.
    private static string ChildError(TrialOutcome outcome)
    {
        if (outcome.Error is null) return $"the trial's execution ended {outcome.Status ?? "without a status"} but wrote no final.json";
        try
        {
            if (outcome.Cause is { } cause && JsonNode.Parse(cause) is JsonObject describe && describe["Error"] is JsonValue e)
                return $"{e.GetValue<string>()}: {Reports.ReportPage.CauseMessage(describe["Cause"]?.GetValue<string>() ?? "")}";
        }
        catch (JsonException)
        {
        }
        return $"{outcome.Error}: {outcome.Cause}";
    }

    public static async Task<SearchResult> FinishAsync(FunctionContext context, SearchState state)
    {
        var table = await ReadTableAsync(context.Store, state.SearchId).ConfigureAwait(false);
        var best = table.Trials.Where(t => t.Status == "finished" && t.ValidationLoss is { } l && double.IsFinite(l))
            .OrderByDescending(t => t.Rung).ThenBy(t => t.ValidationLoss).ThenBy(t => t.Trial).FirstOrDefault();
        var result = new SearchResult
        {
            SearchId = state.SearchId, Strategy = table.Strategy, Trials = table.Trials.Length,
            TotalRounds = table.Trials.Sum(t => t.Rounds), CostUsd = table.Trials.Sum(t => t.CostUsd),
            StopReason = state.Reason ?? "", Best = best, BestModelKey = best is null ? null : RunLayout.FinalModel(best.RunId),
            ReportKey = SearchLayout.Report(state.SearchId), TrialsKey = SearchLayout.Trials(state.SearchId),
        };
        await context.Store.PutAsync(SearchLayout.Result(state.SearchId), JsonSerializer.SerializeToUtf8Bytes(result, SearchJson.Default.SearchResult)).ConfigureAwait(false);
        await context.Store.PutAsync(result.ReportKey, Encoding.UTF8.GetBytes(SearchReportPage.Html(table, result))).ConfigureAwait(false);
        return result;
    }

    private static TrialLaunch Launch(TrialRecord trial, int rung, int[] rungRounds, JsonObject baseJob) => new(trial.Trial, $"{trial.RunId}-r{rung}",
        rung == 0
            ? SearchPlanner.TrialJob(baseJob, trial.Parameters, trial.RunId, rungRounds[0])
            : new JsonObject { ["resume"] = new JsonObject { ["runId"] = trial.RunId, ["maxRounds"] = rungRounds[rung] } });

    private static async Task<JsonObject> ReadJobAsync(IObjectStore store, string key)
    {
        ObjectKey.Validate(key, "job");
        if (!await store.ExistsAsync(key).ConfigureAwait(false))
            throw new SearchSpecException("job", $"'{key}' is neither an inline job nor a job spec in the store {store.Uri}: upload it (jobs/...json) or inline it");
        return JsonNode.Parse(await store.GetAsync(key).ConfigureAwait(false)) as JsonObject
               ?? throw new SearchSpecException("job", $"'{key}' does not hold a job spec object");
    }

    private static async Task<(SearchSpec Spec, JsonObject Job)> ReadSpecAsync(IObjectStore store, string searchId)
    {
        var node = JsonNode.Parse(await store.GetAsync(SearchLayout.Spec(searchId)).ConfigureAwait(false))!.AsObject();
        return (SearchSpecParser.Parse(node), node["job"]!.AsObject());
    }

    private static async Task<TrialTable> ReadTableAsync(IObjectStore store, string searchId) =>
        JsonSerializer.Deserialize(await store.GetAsync(SearchLayout.Trials(searchId)).ConfigureAwait(false), SearchJson.Default.TrialTable)
        ?? throw new InvalidInputException($"{SearchLayout.Trials(searchId)} is JSON null");

    private static Task WriteTableAsync(IObjectStore store, TrialTable table) =>
        store.PutAsync(SearchLayout.Trials(table.SearchId), JsonSerializer.SerializeToUtf8Bytes(table, SearchJson.Default.TrialTable));
}
