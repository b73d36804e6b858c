using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace StepML.Functions.Search;

/// <summary>The search machine's state between its steps (statemachines/search.asl.json): keys and scalars, the trial
/// table lives in the store. <see cref="Batch"/> is what the Trials Map starts next; <see cref="Outcomes"/> is what it
/// gave back (one per batch item, in order).</summary>
public sealed record SearchState
{
    public string SearchId { get; init; } = "";
    /// <summary>Index into <see cref="RungRounds"/> of the rung the batch belongs to.</summary>
    public int Rung { get; init; }
    public int[] RungRounds { get; init; } = [];
    public TrialLaunch[] Batch { get; init; } = [];
    /// <summary>The Trials Map's MaxConcurrency (0 = the whole batch at once).</summary>
    public int MaxConcurrency { get; init; }
    public bool Done { get; init; }
    /// <summary>Why the search ended (set with <see cref="Done"/>).</summary>
    public string? Reason { get; init; }
    public TrialOutcome[]? Outcomes { get; init; }
}

/// <summary>One nested execution of the training machine: its execution name and input (a trial job, or a resume request).</summary>
public sealed record TrialLaunch(int Trial, string Execution, JsonObject Input);

/// <summary>What the Trials Map gives back for one launch: the child's status, or the error the Catch took.</summary>
public sealed record TrialOutcome(int Trial, string? Status = null, string? Error = null, string? Cause = null);

/// <summary>searches/&lt;id&gt;/trials.json.</summary>
public sealed record TrialTable(string SearchId, string Strategy, int[] RungRounds, TrialRecord[] Trials, int Batches);

/// <summary>One configuration and how far it got: <see cref="Rungs"/> has a point per rung it finished.</summary>
public sealed record TrialRecord
{
    public int Trial { get; init; }
    public string RunId { get; init; } = "";
    public JsonObject Parameters { get; init; } = [];
    /// <summary>The highest rung the trial was promoted to (successive halving; 0 for grid and random).</summary>
    public int Rung { get; init; }
    /// <summary>planned (to run at <see cref="Rung"/>), finished or failed.</summary>
    public string Status { get; init; } = "planned";
    public int Rounds { get; init; }
    public double? ValidationLoss { get; init; }
    public double? ValidationMetric { get; init; }
    public string? Metric { get; init; }
    public double CostUsd { get; init; }
    public string? Error { get; init; }
    public RungPoint[] Rungs { get; init; } = [];
}

public sealed record RungPoint(int Rung, int Rounds, double? ValidationLoss, double CostUsd);

/// <summary>searches/&lt;id&gt;/result.json and the search execution's output.</summary>
public sealed record SearchResult
{
    public string SearchId { get; init; } = "";
    public string Strategy { get; init; } = "";
    public int Trials { get; init; }
    public int TotalRounds { get; init; }
    public double CostUsd { get; init; }
    public string StopReason { get; init; } = "";
    public TrialRecord? Best { get; init; }
    /// <summary>The best trial's model (runs/&lt;run&gt;/model/final.tensor): <c>stepml predict &lt;run&gt; DATA</c> uses it.</summary>
    public string? BestModelKey { get; init; }
    public string ReportKey { get; init; } = "";
    public string TrialsKey { get; init; } = "";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SearchState))]
[JsonSerializable(typeof(TrialTable))]
[JsonSerializable(typeof(SearchResult))]
public sealed partial class SearchJson : JsonSerializerContext;
