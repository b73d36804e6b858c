using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// A compiled Parameters / ItemSelector / ResultSelector / Payload template: keys ending in .$ hold a path
// (input or $$ context) or an intrinsic function; everything else is copied as a literal.
// Built once at parse time so a state never re-parses its paths.
internal abstract class PayloadTemplate
{
    // Builds a fresh, detached tree.
    public abstract JsonNode? Build(JsonNode? input, StateScope scope);

    // Compiles node; throws FormatException with the JSON location of the problem.
    public static PayloadTemplate Compile(JsonNode? node, string location)
    {
        switch (node)
        {
            case JsonObject obj:
            {
                var fields = new List<(string Key, PayloadTemplate Value)>(obj.Count);
                bool dynamic = false;
                foreach (var (key, value) in obj)
                {
                    if (key.EndsWith(".$", StringComparison.Ordinal))
                    {
                        var name = key[..^2];
                        if (!JsonNodes.TryGetString(value, out var text))
                            throw new FormatException($"'{location}.{key}' must hold a string path or intrinsic function (it ends in '.$')");
                        fields.Add((name, ExpressionTemplate.Compile(text, $"{location}.{key}")));
                        dynamic = true;
                    }
                    else
                    {
                        var child = Compile(value, $"{location}.{key}");
                        dynamic |= child is not LiteralTemplate;
                        fields.Add((key, child));
                    }
                }
                return dynamic ? new ObjectTemplate(fields.ToArray()) : new LiteralTemplate(obj);
            }
            case JsonArray arr:
            {
                var items = new PayloadTemplate[arr.Count];
                bool dynamic = false;
                for (int i = 0; i < arr.Count; i++)
                {
                    items[i] = Compile(arr[i], $"{location}[{i}]");
                    dynamic |= items[i] is not LiteralTemplate;
                }
                return dynamic ? new ArrayTemplate(items) : new LiteralTemplate(arr);
            }
            default:
                return new LiteralTemplate(node);
        }
    }

    private sealed class LiteralTemplate(JsonNode? value) : PayloadTemplate
    {
        public override JsonNode? Build(JsonNode? input, StateScope scope) => value?.DeepClone();
    }

    private sealed class ObjectTemplate((string Key, PayloadTemplate Value)[] fields) : PayloadTemplate
    {
        public override JsonNode? Build(JsonNode? input, StateScope scope)
        {
            var result = new JsonObject();
            foreach (var (key, value) in fields) result[key] = value.Build(input, scope);
            return result;
        }
    }

    private sealed class ArrayTemplate(PayloadTemplate[] items) : PayloadTemplate
    {
        public override JsonNode? Build(JsonNode? input, StateScope scope)
        {
            var result = new JsonArray();
            foreach (var item in items) result.Add(item.Build(input, scope));
            return result;
        }
    }
}

// A single path-or-intrinsic value (a .$ field, ErrorPath, CausePath, SecondsPath...).
internal sealed class ExpressionTemplate : PayloadTemplate
{
    private readonly Expr _expr;

    private ExpressionTemplate(Expr expr) => _expr = expr;

    // Throws FormatException whose message starts with the quoted field name.
    public static ExpressionTemplate Compile(string text, string field)
    {
        try
        {
            if (CallExpr.IsIntrinsic(text)) return new ExpressionTemplate(CallExpr.Parse(text, field));
            if (text.StartsWith('$'))
            {
                var path = JsonPath.Parse(text);
                return new ExpressionTemplate(new PathExpr(path, field));
            }
        }
        catch (FormatException e)
        {
            throw new FormatException($"'{field}': {e.Message}");
        }
        throw new FormatException($"'{field}': '{text}' is neither a JSONPath (starting with '$') nor an intrinsic function (States.*)");
    }

    public override JsonNode? Build(JsonNode? input, StateScope scope) => JsonNodes.Detached(_expr.Evaluate(input, scope), input);

    // Evaluates without detaching: for read-only uses such as ErrorPath or SecondsPath.
    public JsonNode? Peek(JsonNode? input, StateScope scope) => _expr.Evaluate(input, scope);
}
