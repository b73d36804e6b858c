using System.Text.Json.Nodes;

namespace StepML.Core.Search;

/// <summary>A hyper-parameter search over runs of one base job (README "Hyper-parameter search"). Read and validated by
/// <see cref="SearchSpecParser"/>; the trials and rungs it implies come from <see cref="SearchPlanner"/>.</summary>
public sealed record SearchSpec
{
    /// <summary>1–32 characters <c>A-Z a-z 0-9 - _ .</c>; the search id is <c>&lt;name&gt;-&lt;yyyyMMdd-HHmmss&gt;-&lt;4 hex&gt;</c>.</summary>
    public string Name { get; init; } = "search";
    /// <summary>The base job, inline (a file named by the spec is inlined by the CLI before the search starts).</summary>
    public JsonObject? Job { get; init; }
    /// <summary>Or a job spec's key in the store (jobs/x.json), read by the search's Plan step.</summary>
    public string? JobKey { get; init; }
    public IReadOnlyList<SearchParameter> Parameters { get; init; } = [];
    public SearchStrategy Strategy { get; init; } = new();
    public SearchBudget Budget { get; init; } = new();
    /// <summary>Trials running at once (the search Map's MaxConcurrency); 0 = all trials of a rung at once.</summary>
    public int MaxConcurrency { get; init; } = 4;
    /// <summary>Seeds the random sampling of trials (the trials' own training seed is the base job's).</summary>
    public ulong Seed { get; init; } = 42;
}

public enum ParameterKind { Values, Uniform, LogUniform }

/// <summary>One searched job field: a list of values (a grid axis, or a uniform choice when sampled), or a range sampled
/// uniformly or log-uniformly (log-uniform: exp(U(ln min, ln max)), the usual prior for step sizes and penalties).</summary>
public sealed record SearchParameter(string Field, ParameterKind Kind, IReadOnlyList<JsonNode?> Values, double Min = 0, double Max = 0);

public static class SearchStrategies
{
    public const string Grid = "grid";
    public const string Random = "random";
    public const string SuccessiveHalving = "successive-halving";
}

/// <param name="MinRounds">Successive halving: rounds of the first rung (r₀).</param>
/// <param name="Reduction">Successive halving: η; rung k trains to r₀·η^k rounds (the last to budget.rounds) and keeps the
/// best 1/η of its trials by validation loss (Jamieson &amp; Talwalkar 2016; Li et al. 2020, ASHA).</param>
public sealed record SearchStrategy(string Type = SearchStrategies.Grid, int MinRounds = 1, int Reduction = 3);

/// <param name="Trials">Configurations to try: required for random sampling (and for successive halving over ranges); at
/// most this many grid points (a larger grid is an error, not silently cut).</param>
/// <param name="Rounds">Rounds a fully trained trial runs (its stop.maxRounds); 0 = the base job's stop.maxRounds.</param>
/// <param name="Dollars">Estimated cost at which no further batch or rung starts (0 = no limit); checked between batches,
/// so the search may pass it by at most one batch.</param>
public sealed record SearchBudget(int Trials = 0, int Rounds = 0, double Dollars = 0);

/// <summary>A search spec field is missing or wrong: names the JSON path and the fix (CLI exit code 2).</summary>
public sealed class SearchSpecException : Exception
{
    public SearchSpecException(string field, string message) : base($"search spec field '{field}': {message}") => Field = field;

    private SearchSpecException(string field, string fullMessage, Exception inner) : base(fullMessage, inner) => Field = field;

    public string Field { get; }

    /// <summary>The same error prefixed with the spec file, once: "search.json: search spec field 'x': ...".</summary>
    public SearchSpecException InFile(string file) => new(Field, $"{file}: {Message}", this);
}
