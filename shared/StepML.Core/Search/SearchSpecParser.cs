using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StepML.Core.Jobs;

namespace StepML.Core.Search;

/// <summary>Strict reader for search specs: every error is a <see cref="SearchSpecException"/> naming the JSON path and
/// the fix. The trials' jobs are checked by <see cref="SearchPlanner.Validate"/> against the base job.</summary>
public static partial class SearchSpecParser
{
    public const int MaxTrials = 1000;
    private static readonly string[] s_fields = ["name", "job", "parameters", "strategy", "budget", "maxConcurrency", "seed"];

    public static SearchSpec Parse(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SearchSpecException("$", JsonErrorText.Describe(e));
        }
        return Parse(root as JsonObject ?? throw new SearchSpecException("$", "must be a JSON object (the search spec)"));
    }

    public static SearchSpec Parse(JsonObject o)
    {
        Known(o, "", s_fields);
        var name = o["name"] is null ? "search" : Text(o, "name");
        if (!NamePattern().IsMatch(name))
            throw new SearchSpecException("name", $"'{name}' must be 1–32 characters A-Z a-z 0-9 - _ . (it starts the search id and every trial's run id)");
        var (job, jobKey) = o["job"] switch
        {
            JsonObject inline => (inline, (string?)null),
            JsonValue v when v.TryGetValue<string>(out var key) && key.Length > 0 => ((JsonObject?)null, key),
            null => throw new SearchSpecException("job", "is required: the base job, inline ({\"dataset\": ...}) or a job file / store key (\"jobs/demo.json\")"),
            var other => throw new SearchSpecException("job", $"must be a job spec object or a file name, not {other.ToJsonString()}"),
        };
        var parameters = Parameters(o["parameters"]);
        var strategy = Strategy(o["strategy"]);
        var budget = Budget(o["budget"]);
        var spec = new SearchSpec
        {
            Name = name, Job = job, JobKey = jobKey, Parameters = parameters, Strategy = strategy, Budget = budget,
            MaxConcurrency = o["maxConcurrency"] is null ? 4 : Int(o, "maxConcurrency", "maxConcurrency", 0, 1000),
            Seed = o["seed"] is null ? 42UL : (ulong)Int(o, "seed", "seed", 0, int.MaxValue),
        };
        Check(spec);
        return spec;
    }

    private static IReadOnlyList<SearchParameter> Parameters(JsonNode? node)
    {
        if (node is not JsonObject fields || fields.Count == 0)
            throw new SearchSpecException("parameters", "must name at least one job field with its values or range, e.g. {\"algorithm.rho\": [0.01, 0.1, 1], \"algorithm.learningRate\": {\"logUniform\": [0.01, 1]}}");
        var list = new List<SearchParameter>();
        foreach (var (field, value) in fields)
        {
            var at = $"parameters.{field}";
            if (JobFieldOverride.Parts(field) is null)
                throw new SearchSpecException(at, $"'{field}' is not a job field path (e.g. algorithm.rho)");
            switch (value)
            {
                case JsonArray values when values.Count is > 0 and <= MaxTrials:
                    list.Add(new SearchParameter(field, ParameterKind.Values, values.Select(v => v?.DeepClone()).ToArray()));
                    break;
                case JsonArray values:
                    throw new SearchSpecException(at, $"has {values.Count} values: give 1 to {MaxTrials}");
                case JsonObject range when range.Count == 1 && range.First() is var (kind, bounds) && kind is "uniform" or "logUniform":
                    var (min, max) = Bounds(bounds, $"{at}.{kind}");
                    if (kind == "logUniform" && min <= 0)
                        throw new SearchSpecException($"{at}.logUniform", $"a log-uniform range needs min > 0, not {F(min)}: use uniform for ranges that include 0");
                    list.Add(new SearchParameter(field, kind == "uniform" ? ParameterKind.Uniform : ParameterKind.LogUniform, [], min, max));
                    break;
                default:
                    throw new SearchSpecException(at, $"{value?.ToJsonString() ?? "null"} is neither a list of values ([0.1, 0.3, 1]) nor a range ({{\"uniform\": [min, max]}} or {{\"logUniform\": [min, max]}})");
            }
        }
        return list;
    }

    private static (double Min, double Max) Bounds(JsonNode? node, string at)
    {
        if (node is JsonArray { Count: 2 } a && Number(a[0]) is { } min && Number(a[1]) is { } max && double.IsFinite(min) && double.IsFinite(max) && min < max)
            return (min, max);
        throw new SearchSpecException(at, $"{node?.ToJsonString() ?? "null"} must be [min, max] with finite numbers and min < max");
    }

    private static SearchStrategy Strategy(JsonNode? node)
    {
        var d = new SearchStrategy();
        if (node is null) return d;
        if (node is JsonValue v && v.TryGetValue<string>(out var type)) return d with { Type = Type(type, "strategy") };
        if (node is not JsonObject o) throw new SearchSpecException("strategy", "must be \"grid\", \"random\", \"successive-halving\" or an object {\"type\": ..., \"minRounds\": 1, \"reduction\": 3}");
        Known(o, "strategy.", ["type", "minRounds", "reduction"]);
        return new SearchStrategy(
            Type(o["type"] is null ? d.Type : Text(o, "type", "strategy.type"), "strategy.type"),
            o["minRounds"] is null ? d.MinRounds : Int(o, "minRounds", "strategy.minRounds", 1, 100_000),
            o["reduction"] is null ? d.Reduction : Int(o, "reduction", "strategy.reduction", 2, 100));
    }

    private static string Type(string type, string at) => type is SearchStrategies.Grid or SearchStrategies.Random or SearchStrategies.SuccessiveHalving
        ? type
        : throw new SearchSpecException(at, $"'{type}' is not a strategy: use grid, random or successive-halving");

    private static SearchBudget Budget(JsonNode? node)
    {
        if (node is null) return new SearchBudget();
        if (node is not JsonObject o) throw new SearchSpecException("budget", "must be an object {\"trials\": N, \"rounds\": R, \"dollars\": D}");
        Known(o, "budget.", ["trials", "rounds", "dollars"]);
        var dollars = o["dollars"] is null ? 0.0 : Number(o["dollars"]) ?? -1;
        if (!(double.IsFinite(dollars) && dollars >= 0))
            throw new SearchSpecException("budget.dollars", $"{o["dollars"]!.ToJsonString()} must be a number ≥ 0 (0 = no limit)");
        return new SearchBudget(
            o["trials"] is null ? 0 : Int(o, "trials", "budget.trials", 1, MaxTrials),
            o["rounds"] is null ? 0 : Int(o, "rounds", "budget.rounds", 1, 1_000_000),
            dollars);
    }

    // The combinations that need the base job are checked by SearchPlanner.Validate.
    private static void Check(SearchSpec s)
    {
        var ranges = s.Parameters.FirstOrDefault(p => p.Kind != ParameterKind.Values);
        switch (s.Strategy.Type)
        {
            case SearchStrategies.Grid when ranges is not null:
                throw new SearchSpecException($"parameters.{ranges.Field}", "a grid needs a list of values; to sample a range use \"strategy\": \"random\" or \"successive-halving\" with budget.trials");
            case SearchStrategies.Grid when s.Budget.Trials > 0 && SearchPlanner.GridSize(s) > s.Budget.Trials:
                throw new SearchSpecException("budget.trials", $"the grid has {SearchPlanner.GridSize(s)} points, above budget.trials {s.Budget.Trials}: raise budget.trials, drop values, or use \"strategy\": \"random\"");
            case SearchStrategies.Random when s.Budget.Trials == 0:
                throw new SearchSpecException("budget.trials", "random search needs the number of trials to sample, e.g. \"budget\": {\"trials\": 20}");
            case SearchStrategies.SuccessiveHalving when ranges is not null && s.Budget.Trials == 0:
                throw new SearchSpecException("budget.trials", $"parameters.{ranges.Field} is a range: successive halving needs the number of trials to sample, e.g. \"budget\": {{\"trials\": 27}}");
        }
        if (s.Budget.Trials == 0 && SearchPlanner.GridSize(s) > MaxTrials)
            throw new SearchSpecException("parameters", $"the grid has {SearchPlanner.GridSize(s)} points, above {MaxTrials}: drop values or sample with budget.trials");
    }

    private static void Known(JsonObject o, string prefix, string[] names)
    {
        foreach (var (key, _) in o)
        {
            if (names.Contains(key)) continue;
            var closest = names.MinBy(n => Distance(n, key))!;
            throw new SearchSpecException(prefix + key, $"is not a search spec field{(Distance(closest, key) <= 3 ? $": did you mean '{closest}'?" : "")} (fields: {string.Join(", ", names)})");
        }
    }

    private static string Text(JsonObject o, string name, string? at = null) => o[name] is JsonValue v && v.TryGetValue<string>(out var s)
        ? s
        : throw new SearchSpecException(at ?? name, $"{o[name]?.ToJsonString() ?? "null"} must be a string");

    // A JSON number, whether parsed from text or built in code (JsonValue.Create(3) is not readable as a double).
    private static double? Number(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        ? double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
        : null;

    private static int Int(JsonObject o, string name, string at, int min, int max) => Number(o[name]) is { } d && d == Math.Floor(d) && d >= min && d <= max
        ? (int)d
        : throw new SearchSpecException(at, $"{o[name]?.ToJsonString() ?? "null"} must be a whole number from {min} to {max}");

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,32}$")]
    private static partial Regex NamePattern();
}
