using System.Globalization;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Core.Training;

namespace StepML.Core.Search;

/// <summary>What a search spec implies: its trials (grid points or seeded samples), its rungs (rounds each rung trains
/// to) and which trials survive a rung. Pure, so the Plan and Rank steps and the tests agree.</summary>
public static class SearchPlanner
{
    public static long GridSize(SearchSpec spec) =>
        spec.Parameters.Aggregate(1L, (n, p) => p.Kind == ParameterKind.Values ? Math.Min(n * p.Values.Count, long.MaxValue / 1000) : n);

    /// <summary>The trials' parameter values, field → value, in the spec's order. A grid (or successive halving without
    /// budget.trials) is the cartesian product with the first parameter varying slowest; otherwise budget.trials draws
    /// from a generator seeded by spec.seed: a list is a uniform choice, a range uniform or log-uniform.</summary>
    public static IReadOnlyList<JsonObject> Trials(SearchSpec spec)
    {
        var sampled = spec.Strategy.Type == SearchStrategies.Random || spec.Budget.Trials > 0 && spec.Strategy.Type == SearchStrategies.SuccessiveHalving;
        return sampled ? Sample(spec) : Grid(spec);
    }

    private static List<JsonObject> Grid(SearchSpec spec)
    {
        var trials = new List<JsonObject> { new() };
        foreach (var p in spec.Parameters)
            trials = trials.SelectMany(t => p.Values.Select(v =>
            {
                var next = (JsonObject)t.DeepClone();
                next[p.Field] = v?.DeepClone();
                return next;
            })).ToList();
        return trials;
    }

    private static List<JsonObject> Sample(SearchSpec spec)
    {
        var random = new Random(unchecked((int)spec.Seed ^ (int)(spec.Seed >> 32)));
        var trials = new List<JsonObject>();
        for (int i = 0; i < spec.Budget.Trials; i++)
        {
            var trial = new JsonObject();
            foreach (var p in spec.Parameters)
            {
                var u = random.NextDouble();
                trial[p.Field] = p.Kind switch
                {
                    ParameterKind.Values => p.Values[Math.Min((int)(u * p.Values.Count), p.Values.Count - 1)]?.DeepClone(),
                    ParameterKind.Uniform => Round(p.Min + u * (p.Max - p.Min)),
                    _ => Round(Math.Exp(Math.Log(p.Min) + u * (Math.Log(p.Max) - Math.Log(p.Min)))),
                };
            }
            trials.Add(trial);
        }
        return trials;
    }

    // Four significant digits: a sampled 0.031622776… reads as 0.03162 in tables and run ids stay comparable.
    private static double Round(double v) => double.Parse(v.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The rounds each rung trains to. Grid and random: one rung of <paramref name="rounds"/>. Successive halving:
    /// r₀ = strategy.minRounds, r₀·η, r₀·η², … while below <paramref name="rounds"/>, then <paramref name="rounds"/>.</summary>
    public static IReadOnlyList<int> Rungs(SearchSpec spec, int rounds)
    {
        if (spec.Strategy.Type != SearchStrategies.SuccessiveHalving) return [rounds];
        var rungs = new List<int>();
        for (long r = spec.Strategy.MinRounds; r < rounds; r *= spec.Strategy.Reduction) rungs.Add((int)r);
        rungs.Add(rounds);
        return rungs;
    }

    /// <summary>How many of <paramref name="trials"/> go on to the next rung: ⌈n/η⌉, at least 1.</summary>
    public static int Keep(int trials, int reduction) => Math.Max(1, (trials + reduction - 1) / reduction);

    /// <summary>The best ⌈n/η⌉ trials by validation loss (lower is better; a failed trial, null, never survives while a
    /// finished one is left), ties by trial index so the choice does not depend on finishing order.</summary>
    public static IReadOnlyList<int> Survivors(IReadOnlyList<(int Trial, double? Loss)> results, int reduction) =>
        results.Where(r => r.Loss is { } l && double.IsFinite(l))
            .OrderBy(r => r.Loss!.Value).ThenBy(r => r.Trial)
            .Take(Keep(results.Count, reduction))
            .Select(r => r.Trial).ToArray();

    /// <summary>The job of one trial: the base job with the trial's values set by field path (as <c>--set</c> does),
    /// its run id and <paramref name="maxRounds"/> as stop.maxRounds.</summary>
    public static JsonObject TrialJob(JsonObject baseJob, JsonObject parameters, string runId, int maxRounds)
    {
        var job = (JsonObject)baseJob.DeepClone();
        foreach (var (field, value) in parameters) JobFieldOverride.Set(job, field, value);
        job["runId"] = runId;
        JobFieldOverride.Set(job, "stop.maxRounds", maxRounds);
        return job;
    }

    /// <summary>Checks the spec against its base job and returns the rounds of a fully trained trial: the base job and
    /// every trial job pass the job parser (an error names the parameter and the value), the job has a validation split
    /// (trials are ranked by validation loss), and a trial's rounds fit in one execution of the training machine (the
    /// search waits for that execution, so it must not continue as new).</summary>
    public static int Validate(SearchSpec spec, JsonObject baseJob)
    {
        JobSpec job;
        try
        {
            job = JobSpecParser.Parse(baseJob.ToJsonString());
        }
        catch (JobSpecException e)
        {
            throw new SearchSpecException($"job.{e.Field}", e.Message);
        }
        if (baseJob["runId"] is not null)
            throw new SearchSpecException("job.runId", "each trial gets its own run id (<search id>-t<NN>): remove runId from the base job");
        if (job.Dataset.ValidationFraction <= 0)
            throw new SearchSpecException("job.dataset.validationFraction", "is 0, but trials are ranked by validation loss: set it above 0 (e.g. 0.1)");
        var rounds = spec.Budget.Rounds > 0 ? spec.Budget.Rounds : job.Stop.MaxRounds;
        if (spec.Strategy.Type == SearchStrategies.SuccessiveHalving && spec.Strategy.MinRounds >= rounds)
            throw new SearchSpecException("strategy.minRounds", $"{spec.Strategy.MinRounds} must be below budget.rounds {rounds} (the first rung trains minRounds, the last budget.rounds)");
        foreach (var p in spec.Parameters)
        {
            var probes = p.Kind == ParameterKind.Values ? p.Values : [JsonValue.Create(p.Min), JsonValue.Create(p.Max)];
            foreach (var value in probes)
            {
                JobSpec trial;
                try
                {
                    trial = JobSpecParser.Parse(TrialJob(baseJob, new JsonObject { [p.Field] = value?.DeepClone() }, "probe", rounds).ToJsonString());
                }
                catch (JobSpecException e)
                {
                    throw new SearchSpecException($"parameters.{p.Field}", $"value {value?.ToJsonString() ?? "null"}: {e.Message}");
                }
                var perExecution = StopRules.RoundsPerExecution(trial);
                if (perExecution < rounds)
                    throw new SearchSpecException("budget.rounds", $"{rounds} rounds do not fit in one training execution ({perExecution} with value {value?.ToJsonString()} of {p.Field}, from the 25,000-event history limit): lower budget.rounds");
            }
        }
        return rounds;
    }
}
