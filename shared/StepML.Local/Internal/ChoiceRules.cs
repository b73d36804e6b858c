using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// A compiled Choice rule condition (comparison, And/Or/Not).
internal abstract class ChoiceCondition
{
    public abstract bool Evaluate(JsonNode? input, StateScope scope);

    private static readonly string[] s_types = ["String", "Numeric", "Boolean", "Timestamp"];
    private static readonly string[] s_ops = ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"];
    private static readonly string[] s_tests = ["IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"];

    // Compiles one rule; topLevel rules also carry Next (handled by the caller).
    // Throws FormatException naming the offending field.
    public static ChoiceCondition Compile(JsonObject rule, string location, bool topLevel)
    {
        var ops = new List<string>();
        string? variable = null;
        foreach (var (key, value) in rule)
        {
            switch (key)
            {
                case "Next" when topLevel:
                case "Comment":
                    continue;
                case "Variable":
                    variable = JsonNodes.TryGetString(value, out var v) ? v : throw new FormatException($"{location}.Variable must be a string path");
                    continue;
                default:
                    ops.Add(key);
                    continue;
            }
        }
        if (ops.Count != 1)
            throw new FormatException(ops.Count == 0
                ? $"{location}: no comparison operator (e.g. StringEquals, NumericGreaterThan, And, Or, Not)"
                : $"{location}: exactly one operator is allowed, found {string.Join(", ", ops)}");
        var op = ops[0];
        var operand = rule[op];
        switch (op)
        {
            case "And":
            case "Or":
            {
                if (variable is not null) throw new FormatException($"{location}: '{op}' must not have a Variable");
                if (operand is not JsonArray list || list.Count == 0) throw new FormatException($"{location}.{op} must be a non-empty array of rules");
                var children = new ChoiceCondition[list.Count];
                for (int i = 0; i < list.Count; i++)
                    children[i] = Compile(list[i] as JsonObject ?? throw new FormatException($"{location}.{op}[{i}] must be an object"), $"{location}.{op}[{i}]", false);
                return new Logical(op == "And", children);
            }
            case "Not":
                if (variable is not null) throw new FormatException($"{location}: 'Not' must not have a Variable");
                return new Negation(Compile(operand as JsonObject ?? throw new FormatException($"{location}.Not must be an object"), $"{location}.Not", false));
        }
        if (variable is null) throw new FormatException($"{location}: '{op}' needs a Variable");
        JsonPath varPath;
        try { varPath = JsonPath.Parse(variable); }
        catch (FormatException e) { throw new FormatException($"{location}.Variable: {e.Message}"); }

        if (Array.IndexOf(s_tests, op) >= 0)
        {
            if (!JsonNodes.TryGetBoolean(operand, out var expected)) throw new FormatException($"{location}.{op} must be true or false");
            return new TypeTest(varPath, op, expected);
        }
        if (op == "StringMatches")
        {
            if (!JsonNodes.TryGetString(operand, out var pattern)) throw new FormatException($"{location}.StringMatches must be a string pattern");
            return new Wildcard(varPath, pattern);
        }
        bool isPath = op.EndsWith("Path", StringComparison.Ordinal);
        var core = isPath ? op[..^4] : op;
        string? type = Array.Find(s_types, t => core.StartsWith(t, StringComparison.Ordinal));
        string? cmp = type is null ? null : core[type.Length..];
        if (type is null || Array.IndexOf(s_ops, cmp) < 0)
            throw new FormatException($"{location}: '{op}' is not a Choice operator");
        if (isPath)
        {
            if (!JsonNodes.TryGetString(operand, out var otherText)) throw new FormatException($"{location}.{op} must be a string path");
            try { return new Comparison(varPath, type, cmp!, null, JsonPath.Parse(otherText)); }
            catch (FormatException e) { throw new FormatException($"{location}.{op}: {e.Message}"); }
        }
        bool typeOk = type switch
        {
            "String" => JsonNodes.TryGetString(operand, out _),
            "Numeric" => JsonNodes.TryGetNumber(operand, out _),
            "Boolean" => JsonNodes.TryGetBoolean(operand, out _) && cmp == "Equals",
            _ => JsonNodes.TryGetString(operand, out var ts) && JsonNodes.TryParseTimestamp(ts, out _),
        };
        if (!typeOk)
            throw new FormatException($"{location}.{op}: the value {JsonPath.Describe(operand)} is not a valid {type.ToLowerInvariant()}" +
                                      (type == "Boolean" ? " (only BooleanEquals exists)" : type == "Timestamp" ? " (RFC 3339, e.g. 2024-01-01T00:00:00Z)" : ""));
        return new Comparison(varPath, type, cmp!, operand!.DeepClone(), null);
    }

    private static JsonNode? Read(JsonPath path, JsonNode? input, StateScope scope, bool required, out bool found)
    {
        found = path.IsContext ? scope.TryResolve(path, out var node) : path.TryEvaluate(input, out node);
        if (!found && required)
            throw StatesError.Runtime($"Invalid path '{path.Text}': the Choice state's input {JsonPath.Describe(input)} has no such field");
        return node;
    }

    private sealed class Logical(bool isAnd, ChoiceCondition[] children) : ChoiceCondition
    {
        public override bool Evaluate(JsonNode? input, StateScope scope)
        {
            foreach (var c in children)
            {
                bool r = c.Evaluate(input, scope);
                if (isAnd && !r) return false;
                if (!isAnd && r) return true;
            }
            return isAnd;
        }
    }

    private sealed class Negation(ChoiceCondition inner) : ChoiceCondition
    {
        public override bool Evaluate(JsonNode? input, StateScope scope) => !inner.Evaluate(input, scope);
    }

    private sealed class TypeTest(JsonPath variable, string op, bool expected) : ChoiceCondition
    {
        public override bool Evaluate(JsonNode? input, StateScope scope)
        {
            var node = Read(variable, input, scope, required: op != "IsPresent", out bool found);
            bool actual = op switch
            {
                "IsPresent" => found,
                "IsNull" => node is null,
                "IsNumeric" => JsonNodes.TryGetNumber(node, out _),
                "IsString" => JsonNodes.TryGetString(node, out _),
                "IsBoolean" => JsonNodes.TryGetBoolean(node, out _),
                _ => JsonNodes.TryGetString(node, out var s) && JsonNodes.TryParseTimestamp(s, out _),
            };
            return actual == expected;
        }
    }

    // StringMatches: * matches any run of characters; \* and \\ are literal.
    private sealed class Wildcard : ChoiceCondition
    {
        private readonly JsonPath _variable;
        private readonly List<(string Literal, bool StarAfter)> _parts = [];

        public Wildcard(JsonPath variable, string pattern)
        {
            _variable = variable;
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < pattern.Length; i++)
            {
                char c = pattern[i];
                if (c == '\\' && i + 1 < pattern.Length) { sb.Append(pattern[++i]); continue; }
                if (c == '*') { _parts.Add((sb.ToString(), true)); sb.Clear(); continue; }
                sb.Append(c);
            }
            _parts.Add((sb.ToString(), false));
        }

        public override bool Evaluate(JsonNode? input, StateScope scope)
            => JsonNodes.TryGetString(Read(_variable, input, scope, true, out _), out var s) && Matches(s);

        internal bool Matches(string s)
        {
            // Greedy-safe glob: first literal anchors at the start, last at the end, the middle ones in order.
            if (_parts.Count == 1) return s == _parts[0].Literal;
            var first = _parts[0].Literal;
            var last = _parts[^1].Literal;
            if (s.Length < first.Length + last.Length || !s.StartsWith(first, StringComparison.Ordinal) || !s.EndsWith(last, StringComparison.Ordinal))
                return false;
            int pos = first.Length, end = s.Length - last.Length;
            for (int i = 1; i < _parts.Count - 1; i++)
            {
                var lit = _parts[i].Literal;
                if (lit.Length == 0) continue;
                int at = s.IndexOf(lit, pos, end - pos, StringComparison.Ordinal);
                if (at < 0) return false;
                pos = at + lit.Length;
            }
            return true;
        }
    }

    private sealed class Comparison(JsonPath variable, string type, string op, JsonNode? constant, JsonPath? otherPath) : ChoiceCondition
    {
        public override bool Evaluate(JsonNode? input, StateScope scope)
        {
            var left = Read(variable, input, scope, true, out _);
            var right = otherPath is null ? constant : Read(otherPath, input, scope, true, out _);
            int? c = Compare(left, right);
            if (c is null) return false;
            return op switch
            {
                "Equals" => c == 0,
                "LessThan" => c < 0,
                "GreaterThan" => c > 0,
                "LessThanEquals" => c <= 0,
                _ => c >= 0,
            };
        }

        // null when either side has the wrong type: a type mismatch is "no match", not an error.
        private int? Compare(JsonNode? left, JsonNode? right)
        {
            switch (type)
            {
                case "String":
                    return JsonNodes.TryGetString(left, out var a) && JsonNodes.TryGetString(right, out var b) ? Math.Sign(string.CompareOrdinal(a, b)) : null;
                case "Numeric":
                    return JsonNodes.TryGetNumber(left, out var x) && JsonNodes.TryGetNumber(right, out var y) ? x.CompareTo(y) : null;
                case "Boolean":
                    return JsonNodes.TryGetBoolean(left, out var p) && JsonNodes.TryGetBoolean(right, out var q) ? (p == q ? 0 : 1) : null;
                default:
                    return JsonNodes.TryGetString(left, out var s) && JsonNodes.TryParseTimestamp(s, out var t1)
                           && JsonNodes.TryGetString(right, out var u) && JsonNodes.TryParseTimestamp(u, out var t2)
                        ? t1.CompareTo(t2) : null;
            }
        }
    }
}
