using System.Text.Json;

namespace StepML.Core.Jobs;

/// <summary>
/// A JSON parse error as one clause a user can act on: "not valid JSON (line 3, byte 14): …" with the position given
/// once and 1-based, without System.Text.Json's own "Path: $ | LineNumber: 0 | BytePositionInLine: 0." suffix, and an
/// empty or blank file named as such instead of "does not contain any JSON tokens … isFinalBlock is true".
/// </summary>
public static class JsonErrorText
{
    public static string Describe(JsonException e)
    {
        var message = Trimmed(e);
        if (message.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal))
            return "not valid JSON: the file is empty or blank; write a JSON object ({ ... })";
        return e.LineNumber is { } line
            ? $"not valid JSON (line {line + 1}, byte {e.BytePositionInLine + 1}): {message}"
            : $"not valid JSON: {message}";
    }

    /// <summary>The reader's message without its position suffix (for errors that are not syntax errors, such as an
    /// unknown property met by a deserializer).</summary>
    public static string Trimmed(JsonException e)
    {
        var message = e.Message;
        foreach (var suffix in new[] { " Path: ", " LineNumber: " })
        {
            var at = message.IndexOf(suffix, StringComparison.Ordinal);
            if (at >= 0) message = message[..at];
        }
        return message;
    }
}
