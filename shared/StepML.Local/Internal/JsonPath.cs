using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// The JSONPath subset ASL uses, compiled once: $/$$, dotted and bracketed fields,
// non-negative array indexes and the [*] wildcard. Filters, slices and recursive descent are rejected.
internal sealed class JsonPath
{
    private readonly Segment[] _segments;

    private JsonPath(string text, bool isContext, Segment[] segments)
    {
        Text = text;
        IsContext = isContext;
        _segments = segments;
        foreach (var s in segments) if (s.Kind == SegmentKind.Wildcard) HasWildcard = true;
    }

    public string Text { get; }
    public bool IsContext { get; }
    public bool HasWildcard { get; }
    public int Length => _segments.Length;
    public bool IsRoot => _segments.Length == 0;

    internal string? FieldAt(int i) => i < _segments.Length && _segments[i].Kind == SegmentKind.Field ? _segments[i].Name : null;

    public override string ToString() => Text;

    // Parses a path; throws FormatException with the reason (callers add state and field).
    public static JsonPath Parse(string text)
    {
        bool isContext = text.StartsWith("$$", StringComparison.Ordinal);
        if (!text.StartsWith('$')) throw new FormatException($"'{text}' is not a JSONPath: it must start with '$'");
        int i = isContext ? 2 : 1;
        var segments = new List<Segment>();
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '.')
            {
                if (i + 1 < text.Length && text[i + 1] == '.')
                    throw new FormatException($"'{text}': recursive descent '..' is not supported");
                int start = ++i;
                while (i < text.Length && text[i] != '.' && text[i] != '[') i++;
                var name = text[start..i];
                if (name.Length == 0) throw new FormatException($"'{text}': empty field name at position {start}");
                segments.Add(name == "*" ? Segment.Wildcard : Segment.Field(name));
            }
            else if (c == '[')
            {
                int close = FindClose(text, i);
                var inner = text[(i + 1)..close].Trim();
                i = close + 1;
                if (inner == "*") segments.Add(Segment.Wildcard);
                else if (inner.Length >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[^1] == inner[0])
                    segments.Add(Segment.Field(inner[1..^1]));
                else if (int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    segments.Add(Segment.Index(index));
                else
                    throw new FormatException($"'{text}': '[{inner}]' is not supported (use a field, a non-negative index or [*])");
            }
            else throw new FormatException($"'{text}': unexpected '{c}' at position {i}");
        }
        return new JsonPath(text, isContext, segments.ToArray());
    }

    private static int FindClose(string text, int open)
    {
        char quote = '\0';
        for (int j = open + 1; j < text.Length; j++)
        {
            char c = text[j];
            if (quote != '\0') { if (c == quote) quote = '\0'; }
            else if (c == '\'' || c == '"') quote = c;
            else if (c == ']') return j;
        }
        throw new FormatException($"'{text}': '[' at position {open} is not closed");
    }

    // Finds the value at this path. Without a wildcard the result is a node inside root
    // (borrowed: clone before inserting elsewhere); with one it is a fresh array of cloned matches.
    public bool TryEvaluate(JsonNode? root, out JsonNode? result, int startSegment = 0)
    {
        if (!HasWildcard)
        {
            var node = root;
            for (int s = startSegment; s < _segments.Length; s++)
            {
                if (!TryStep(node, _segments[s], out node)) { result = null; return false; }
            }
            result = node;
            return true;
        }
        var matches = new JsonArray();
        Collect(root, startSegment, matches);
        result = matches;
        return true;
    }

    private void Collect(JsonNode? node, int s, JsonArray into)
    {
        if (s == _segments.Length) { into.Add(node?.DeepClone()); return; }
        var seg = _segments[s];
        if (seg.Kind == SegmentKind.Wildcard)
        {
            if (node is JsonArray arr) foreach (var item in arr) Collect(item, s + 1, into);
            else if (node is JsonObject obj) foreach (var kv in obj) Collect(kv.Value, s + 1, into);
            return;
        }
        if (TryStep(node, seg, out var next)) Collect(next, s + 1, into);
    }

    private static bool TryStep(JsonNode? node, in Segment seg, out JsonNode? next)
    {
        switch (seg.Kind)
        {
            case SegmentKind.Field when node is JsonObject obj:
                return obj.TryGetPropertyValue(seg.Name!, out next);
            case SegmentKind.Index when node is JsonArray arr && seg.Position < arr.Count:
                next = arr[seg.Position];
                return true;
            default:
                next = null;
                return false;
        }
    }

    // Applies a ResultPath: puts value at this path inside root,
    // creating missing objects, and returns the new root. value must not have a parent.
    public JsonNode? SetIn(JsonNode? root, JsonNode? value)
    {
        if (_segments.Length == 0) return value;
        if (root is not JsonObject && root is not JsonArray)
            throw new StatesError(ErrorNames.ResultPathMatchFailure,
                $"Unable to apply ResultPath '{Text}' to input {Describe(root)}: the input is not a JSON object");
        JsonNode current = root;
        for (int s = 0; s < _segments.Length; s++)
        {
            var seg = _segments[s];
            bool last = s == _segments.Length - 1;
            if (seg.Kind == SegmentKind.Field && current is JsonObject obj)
            {
                if (last) { obj[seg.Name!] = value; break; }
                if (obj.TryGetPropertyValue(seg.Name!, out var child) && child is JsonObject or JsonArray) current = child!;
                else
                {
                    if (child is not null)
                        throw new StatesError(ErrorNames.ResultPathMatchFailure,
                            $"Unable to apply ResultPath '{Text}': field '{seg.Name}' holds a {child.GetValueKind()}, not an object");
                    var created = new JsonObject();
                    obj[seg.Name!] = created;
                    current = created;
                }
            }
            else if (seg.Kind == SegmentKind.Index && current is JsonArray arr && seg.Position < arr.Count)
            {
                if (last) { arr[seg.Position] = value; break; }
                var child = arr[seg.Position];
                if (child is not (JsonObject or JsonArray))
                    throw new StatesError(ErrorNames.ResultPathMatchFailure,
                        $"Unable to apply ResultPath '{Text}': element {seg.Position} is not an object or array");
                current = child;
            }
            else
                throw new StatesError(ErrorNames.ResultPathMatchFailure,
                    $"Unable to apply ResultPath '{Text}' to input {Describe(root)}");
        }
        return root;
    }

    internal static string Describe(JsonNode? node)
    {
        var text = node is null ? "null" : node.ToJsonString();
        return text.Length <= 200 ? text : text[..200] + "...";
    }

    private enum SegmentKind { Field, Index, Wildcard }

    private readonly record struct Segment(SegmentKind Kind, string? Name, int Position)
    {
        public static Segment Field(string name) => new(SegmentKind.Field, name, 0);
        public static Segment Index(int i) => new(SegmentKind.Index, null, i);
        public static readonly Segment Wildcard = new(SegmentKind.Wildcard, null, 0);
    }
}

internal static class JsonNodes
{
    // Returns a node that can be inserted into a new tree: the node itself when it is detached and not
    // root, else a deep clone.
    public static JsonNode? Detached(JsonNode? node, JsonNode? root = null)
        => node is null ? null : node.Parent is null && !ReferenceEquals(node, root) ? node : node.DeepClone();

    public static bool TryGetNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return false;
        // Parsed numbers convert to double directly; values built in code (JsonValue.Create(int)) only to their own type.
        if (v.TryGetValue(out value)) return true;
        if (v.TryGetValue(out int i)) { value = i; return true; }
        if (v.TryGetValue(out long l)) { value = l; return true; }
        if (v.TryGetValue(out decimal m)) { value = (double)m; return true; }
        if (v.TryGetValue(out float f)) { value = f; return true; }
        if (v.TryGetValue(out uint u)) { value = u; return true; }
        if (v.TryGetValue(out ulong ul)) { value = ul; return true; }
        if (v.TryGetValue(out short sh)) { value = sh; return true; }
        if (v.TryGetValue(out byte b)) { value = b; return true; }
        return false;
    }

    public static bool TryGetString(JsonNode? node, out string value)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }
        value = "";
        return false;
    }

    public static bool TryGetBoolean(JsonNode? node, out bool value)
    {
        var kind = node?.GetValueKind();
        value = kind == JsonValueKind.True;
        return kind is JsonValueKind.True or JsonValueKind.False;
    }

    public static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();

    // RFC 3339 timestamp with an explicit offset (Z or ±hh:mm), as the ASL Timestamp comparators require.
    public static bool TryParseTimestamp(string s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 20 || s[10] != 'T' && s[10] != 't') return false;
        char last = s[^1];
        bool hasOffset = last is 'Z' or 'z' || (s.Length >= 25 && s[^3] == ':' && (s[^6] == '+' || s[^6] == '-'));
        return hasOffset && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }

    public static string FormatTimestamp(DateTimeOffset t)
        => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string NumberText(double d)
        => d == Math.Floor(d) && Math.Abs(d) < 1e15 ? ((long)d).ToString(CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    // One writer and buffer per thread: history records serialise every state input and output, so this path is hot.
    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static ReadOnlySpan<byte> Write(JsonNode? node)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Capacity > 1 << 20) t_buffer = buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        else buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        if (node is null) writer.WriteNullValue(); else node.WriteTo(writer);
        writer.Flush();
        return buffer.WrittenSpan;
    }

    public static byte[] ToUtf8(JsonNode? node) => Write(node).ToArray();

    public static string ToJson(JsonNode? node) => node is null ? "null" : Encoding.UTF8.GetString(Write(node));

}
