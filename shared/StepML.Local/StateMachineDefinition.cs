using System.Text;
using System.Text.RegularExpressions;
using StepML.Local.Internal;

namespace StepML.Local;

/// <summary>A parsed and validated ASL definition (JSONPath query language).</summary>
public sealed partial class StateMachineDefinition
{
    public const string ArnPrefix = "arn:aws:states:local:000000000000:stateMachine:";

    private StateMachineDefinition(string name, string json, StateMachineBody body)
    {
        Name = name;
        Json = json;
        Body = body;
    }

    public string Name { get; }
    public string StateMachineArn => ArnPrefix + Name;

    /// <summary>The definition text after substitution.</summary>
    public string Json { get; }

    internal StateMachineBody Body { get; }

    /// <summary>Parses <paramref name="aslJson"/> after replacing each <c>${Name}</c> with <paramref name="substitutions"/>[Name]
    /// (CDK DefinitionSubstitutions semantics). Throws <see cref="AslValidationException"/> naming the state and field.</summary>
    public static StateMachineDefinition Parse(string aslJson, IReadOnlyDictionary<string, string>? substitutions = null, string name = "StateMachine")
    {
        ArgumentNullException.ThrowIfNull(aslJson);
        if (name.Length is 0 or > 80 || name.IndexOfAny([':', '/', ' ']) >= 0)
            throw new ArgumentException($"State machine name '{name}' must be 1-80 characters without ':', '/' or spaces", nameof(name));
        var text = Substitute(aslJson, substitutions);
        var root = AslParser.ParseRoot(text);
        return new StateMachineDefinition(name, text, AslParser.ParseMachine(root));
    }

    private static string Substitute(string text, IReadOnlyDictionary<string, string>? substitutions)
    {
        var missing = new List<string>();
        var result = Placeholder().Replace(text, m =>
        {
            var key = m.Groups[1].Value;
            if (substitutions is not null && substitutions.TryGetValue(key, out var value)) return value;
            missing.Add(key);
            return m.Value;
        });
        if (missing.Count > 0)
        {
            var line = 1 + text.AsSpan(0, text.IndexOf("${" + missing[0] + "}", StringComparison.Ordinal)).Count('\n');
            var known = substitutions is null || substitutions.Count == 0 ? "none were given" : "given: " + string.Join(", ", substitutions.Keys);
            throw new AslValidationException(
                $"State machine: unresolved substitution ${{{missing[0]}}} at line {line}" +
                (missing.Count > 1 ? $" (also: {string.Join(", ", missing.Skip(1).Distinct())})" : "") +
                $"; pass it in substitutions ({known})");
        }
        return result;
    }

    [GeneratedRegex(@"\$\{([^}\s]+)\}")]
    private static partial Regex Placeholder();
}
