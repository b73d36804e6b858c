using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// A value expression: a literal, a JSONPath (input or context) or an intrinsic function call.
internal abstract class Expr
{
    // Evaluates to a node; for paths the node may be borrowed from the input (clone before inserting).
    public abstract JsonNode? Evaluate(JsonNode? input, StateScope scope);
}

internal sealed class LiteralExpr(JsonNode? value, string? rawString) : Expr
{
    public JsonNode? Value { get; } = value;

    // For string literals: the text with its backslash escapes intact (States.Format needs to tell
    // an escaped \{ from a placeholder).
    public string? RawString { get; } = rawString;

    public override JsonNode? Evaluate(JsonNode? input, StateScope scope) => Value?.DeepClone();
}

internal sealed class PathExpr(JsonPath path, string field) : Expr
{
    public JsonPath Path { get; } = path;

    public override JsonNode? Evaluate(JsonNode? input, StateScope scope)
    {
        bool found = Path.IsContext ? scope.TryResolve(Path, out var node) : Path.TryEvaluate(input, out node);
        if (!found)
            throw StatesError.Runtime(
                $"The JSONPath '{Path.Text}' specified for the field '{field}' could not be found in the input '{JsonPath.Describe(Path.IsContext ? null : input)}'");
        return node;
    }
}

// The JSONPath-mode intrinsic functions (States.*), parsed once at definition time.
internal sealed class CallExpr : Expr
{
    private static readonly Dictionary<string, (int Min, int Max)> s_arity = new(StringComparer.Ordinal)
    {
        ["States.Format"] = (1, int.MaxValue),
        ["States.StringToJson"] = (1, 1),
        ["States.JsonToString"] = (1, 1),
        ["States.Array"] = (0, int.MaxValue),
        ["States.ArrayPartition"] = (2, 2),
        ["States.ArrayContains"] = (2, 2),
        ["States.ArrayRange"] = (3, 3),
        ["States.ArrayGetItem"] = (2, 2),
        ["States.ArrayLength"] = (1, 1),
        ["States.ArrayUnique"] = (1, 1),
        ["States.Base64Encode"] = (1, 1),
        ["States.Base64Decode"] = (1, 1),
        ["States.Hash"] = (2, 2),
        ["States.JsonMerge"] = (3, 3),
        ["States.MathRandom"] = (2, 3),
        ["States.MathAdd"] = (2, 2),
        ["States.StringSplit"] = (2, 2),
        ["States.UUID"] = (0, 0),
    };

    private readonly string _name;
    private readonly Expr[] _args;

    private CallExpr(string name, Expr[] args)
    {
        _name = name;
        _args = args;
    }

    public static bool IsIntrinsic(string text) => text.StartsWith("States.", StringComparison.Ordinal);

    // Parses States.Name(arg, ...); throws FormatException naming the problem.
    public static Expr Parse(string text, string field)
    {
        int pos = 0;
        var expr = ParseCall(text, ref pos, field);
        SkipSpace(text, ref pos);
        if (pos != text.Length) throw new FormatException($"'{text}': unexpected text after the closing ')' at position {pos}");
        return expr;
    }

    private static CallExpr ParseCall(string text, ref int pos, string field)
    {
        int open = text.IndexOf('(', pos);
        if (open < 0) throw new FormatException($"'{text}': expected '(' after the function name");
        var name = text[pos..open].Trim();
        if (!s_arity.TryGetValue(name, out var arity))
            throw new FormatException($"'{name}' is not a supported intrinsic function (supported: {string.Join(", ", s_arity.Keys)})");
        pos = open + 1;
        var args = new List<Expr>();
        SkipSpace(text, ref pos);
        if (pos < text.Length && text[pos] == ')') pos++;
        else
        {
            while (true)
            {
                SkipSpace(text, ref pos);
                args.Add(ParseArg(text, ref pos, field));
                SkipSpace(text, ref pos);
                if (pos >= text.Length) throw new FormatException($"'{text}': missing ')'");
                if (text[pos] == ')') { pos++; break; }
                if (text[pos] != ',') throw new FormatException($"'{text}': expected ',' or ')' at position {pos}");
                pos++;
            }
        }
        if (args.Count < arity.Min || args.Count > arity.Max)
            throw new FormatException(arity.Min == arity.Max
                ? $"{name} takes {arity.Min} argument(s), got {args.Count}"
                : $"{name} takes {arity.Min} to {(arity.Max == int.MaxValue ? "any number of" : arity.Max.ToString(CultureInfo.InvariantCulture))} arguments, got {args.Count}");
        if (name == "States.JsonMerge" && args[2] is LiteralExpr deep && deep.Value?.GetValueKind() != JsonValueKind.False)
            throw new FormatException("States.JsonMerge supports only shallow merges: its third argument must be false");
        return new CallExpr(name, args.ToArray());
    }

    private static Expr ParseArg(string text, ref int pos, string field)
    {
        if (pos >= text.Length) throw new FormatException($"'{text}': missing argument");
        char c = text[pos];
        if (c == '\'')
        {
            var raw = new StringBuilder();
            var value = new StringBuilder();
            pos++;
            while (true)
            {
                if (pos >= text.Length) throw new FormatException($"'{text}': unterminated string literal");
                char ch = text[pos];
                if (ch == '\\' && pos + 1 < text.Length)
                {
                    raw.Append(ch).Append(text[pos + 1]);
                    value.Append(text[pos + 1]);
                    pos += 2;
                    continue;
                }
                pos++;
                if (ch == '\'') break;
                raw.Append(ch);
                value.Append(ch);
            }
            return new LiteralExpr(JsonValue.Create(value.ToString()), raw.ToString());
        }
        if (c == '$')
        {
            int start = pos, depth = 0;
            while (pos < text.Length)
            {
                char ch = text[pos];
                if (ch == '[') depth++;
                else if (ch == ']') depth--;
                else if (depth == 0 && (ch == ',' || ch == ')' || char.IsWhiteSpace(ch))) break;
                pos++;
            }
            return new PathExpr(JsonPath.Parse(text[start..pos]), field);
        }
        if (text.AsSpan(pos).StartsWith("States.", StringComparison.Ordinal)) return ParseCall(text, ref pos, field);
        int tokenStart = pos;
        while (pos < text.Length && text[pos] != ',' && text[pos] != ')' && !char.IsWhiteSpace(text[pos])) pos++;
        var token = text[tokenStart..pos];
        switch (token)
        {
            case "true": return new LiteralExpr(JsonValue.Create(true), null);
            case "false": return new LiteralExpr(JsonValue.Create(false), null);
            case "null": return new LiteralExpr(null, null);
        }
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return new LiteralExpr(JsonNode.Parse(token), null);
        throw new FormatException($"'{text}': argument '{token}' is not a string ('...'), number, boolean, null, path or function");
    }

    private static void SkipSpace(string text, ref int pos)
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
    }

    public override JsonNode? Evaluate(JsonNode? input, StateScope scope)
    {
        var a = new JsonNode?[_args.Length];
        for (int i = 0; i < _args.Length; i++) a[i] = _args[i].Evaluate(input, scope);
        return _name switch
        {
            "States.Format" => Format(a),
            "States.StringToJson" => StringToJson(Str(a, 0)),
            "States.JsonToString" => JsonValue.Create(JsonNodes.ToJson(a[0])),
            "States.Array" => new JsonArray(Array.ConvertAll(a, n => JsonNodes.Detached(n))),
            "States.ArrayPartition" => Partition(Arr(a, 0), PositiveInt(a, 1)),
            "States.ArrayContains" => JsonValue.Create(Contains(Arr(a, 0), a[1])),
            "States.ArrayRange" => Range(Int(a, 0), Int(a, 1), Int(a, 2)),
            "States.ArrayGetItem" => GetItem(Arr(a, 0), Int(a, 1)),
            "States.ArrayLength" => JsonValue.Create(Arr(a, 0).Count),
            "States.ArrayUnique" => Unique(Arr(a, 0)),
            "States.Base64Encode" => JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(Str(a, 0)))),
            "States.Base64Decode" => Base64Decode(Str(a, 0)),
            "States.Hash" => Hash(Str(a, 0), Str(a, 1)),
            "States.JsonMerge" => Merge(Obj(a, 0), Obj(a, 1)),
            "States.MathRandom" => MathRandom(a, scope),
            "States.MathAdd" => JsonValue.Create(checked(Int(a, 0) + Int(a, 1))),
            "States.StringSplit" => Split(Str(a, 0), Str(a, 1)),
            "States.UUID" => JsonValue.Create(Uuid(scope)),
            _ => throw new InvalidOperationException($"unreachable: {_name} passed the arity table"),
        };
    }

    private StatesError Fail(string message) => new(ErrorNames.IntrinsicFailure, $"{_name}: {message}");

    private string Str(JsonNode?[] a, int i)
        => JsonNodes.TryGetString(a[i], out var s) ? s : throw Fail($"argument {i + 1} must be a string, got {JsonNodes.Kind(a[i])}");

    private JsonArray Arr(JsonNode?[] a, int i)
        => a[i] as JsonArray ?? throw Fail($"argument {i + 1} must be an array, got {JsonNodes.Kind(a[i])}");

    private JsonObject Obj(JsonNode?[] a, int i)
        => a[i] as JsonObject ?? throw Fail($"argument {i + 1} must be an object, got {JsonNodes.Kind(a[i])}");

    private int Int(JsonNode?[] a, int i)
    {
        if (!JsonNodes.TryGetNumber(a[i], out var d) || d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
            throw Fail($"argument {i + 1} must be an integer, got {JsonPath.Describe(a[i])}");
        return (int)d;
    }

    private int PositiveInt(JsonNode?[] a, int i)
    {
        int v = Int(a, i);
        return v > 0 ? v : throw Fail($"argument {i + 1} must be a positive integer, got {v}");
    }

    private JsonValue Format(JsonNode?[] a)
    {
        if (_args[0] is not LiteralExpr { RawString: { } template })
            throw Fail("the first argument must be a string literal template");
        var sb = new StringBuilder();
        int next = 1;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '\\' && i + 1 < template.Length) { sb.Append(template[++i]); continue; }
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '}')
            {
                if (next >= a.Length) throw Fail($"the template has more {{}} placeholders than the {a.Length - 1} argument(s) given");
                var v = a[next++];
                if (v is JsonObject or JsonArray) throw Fail($"argument {next} must be a string, number, boolean or null, got {JsonNodes.Kind(v)}");
                sb.Append(JsonNodes.TryGetString(v, out var s) ? s : JsonNodes.ToJson(v));
                i++;
                continue;
            }
            sb.Append(c);
        }
        if (next != a.Length) throw Fail($"the template has {next - 1} placeholder(s) but {a.Length - 1} argument(s) were given");
        return JsonValue.Create(sb.ToString());
    }

    private JsonNode? StringToJson(string s)
    {
        try { return JsonNode.Parse(s); }
        catch (JsonException e) { throw Fail($"the string is not valid JSON: {e.Message}"); }
    }

    private static JsonArray Partition(JsonArray array, int size)
    {
        var result = new JsonArray();
        JsonArray? chunk = null;
        foreach (var item in array)
        {
            if (chunk is null || chunk.Count == size) { chunk = new JsonArray(); result.Add(chunk); }
            chunk.Add(item?.DeepClone());
        }
        return result;
    }

    private static bool Contains(JsonArray array, JsonNode? value)
    {
        foreach (var item in array) if (JsonNode.DeepEquals(item, value)) return true;
        return false;
    }

    private JsonArray Range(int start, int end, int step)
    {
        if (step == 0) throw Fail("the step must not be 0");
        long count = (long)Math.Floor((end - (double)start) / step) + 1;
        if (count > 1000) throw Fail($"the range has {count} elements; at most 1000 are allowed");
        var result = new JsonArray();
        for (long i = 0; i < count; i++) result.Add(JsonValue.Create(start + i * step));
        return result;
    }

    private JsonNode? GetItem(JsonArray array, int index)
    {
        if (index < 0 || index >= array.Count) throw Fail($"index {index} is out of range for an array of {array.Count}");
        return array[index]?.DeepClone();
    }

    private static JsonArray Unique(JsonArray array)
    {
        var result = new JsonArray();
        foreach (var item in array)
        {
            bool seen = false;
            foreach (var kept in result) if (JsonNode.DeepEquals(kept, item)) { seen = true; break; }
            if (!seen) result.Add(item?.DeepClone());
        }
        return result;
    }

    private JsonValue Base64Decode(string s)
    {
        try { return JsonValue.Create(Encoding.UTF8.GetString(Convert.FromBase64String(s))); }
        catch (FormatException) { throw Fail("the argument is not valid base64"); }
    }

    private JsonValue Hash(string data, string algorithm)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        byte[] digest = algorithm switch
        {
            "MD5" => MD5.HashData(bytes),
            "SHA-1" => SHA1.HashData(bytes),
            "SHA-256" => SHA256.HashData(bytes),
            "SHA-384" => SHA384.HashData(bytes),
            "SHA-512" => SHA512.HashData(bytes),
            _ => throw Fail($"algorithm '{algorithm}' is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
        };
        return JsonValue.Create(Convert.ToHexStringLower(digest));
    }

    private static JsonObject Merge(JsonObject left, JsonObject right)
    {
        var result = new JsonObject();
        foreach (var kv in left) result[kv.Key] = kv.Value?.DeepClone();
        foreach (var kv in right) result[kv.Key] = kv.Value?.DeepClone();
        return result;
    }

    private JsonValue MathRandom(JsonNode?[] a, StateScope scope)
    {
        int start = Int(a, 0), end = Int(a, 1);
        if (end <= start) throw Fail($"the end ({end}) must be greater than the start ({start})");
        if (a.Length == 3) return JsonValue.Create(new Random(Int(a, 2)).Next(start, end));
        return JsonValue.Create(scope.Execution.NextInt(start, end));
    }

    private static JsonArray Split(string s, string delimiters)
    {
        var parts = delimiters.Length == 0 ? [s] : s.Split(delimiters.ToCharArray(), StringSplitOptions.RemoveEmptyEntries);
        var result = new JsonArray();
        foreach (var p in parts) result.Add(JsonValue.Create(p));
        return result;
    }

    private static string Uuid(StateScope scope)
    {
        Span<byte> bytes = stackalloc byte[16];
        scope.Execution.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
