using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace StepML.Functions;

internal static class Json
{
    public static async Task<T> ReadAsync<T>(Stream input, JsonTypeInfo<T> type, string function)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(input, type).ConfigureAwait(false)
                ?? throw new InvalidInputException($"{function}: the input is JSON null; expected a {typeof(T).Name} object");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{function}: the input is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>A handler's input as a JSON tree; text that is not JSON (an empty payload, a typo) is the caller's
    /// input error, <see cref="InvalidInputException"/>, not the reader's internal exception type.</summary>
    public static async Task<JsonNode?> ReadNodeAsync(Stream input, string function)
    {
        try
        {
            return await JsonNode.ParseAsync(input).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{function}: the input is {Core.Jobs.JsonErrorText.Describe(e)}", e);
        }
    }

    public static Stream Write<T>(T value, JsonTypeInfo<T> type)
    {
        var stream = new MemoryStream();
        JsonSerializer.Serialize(stream, value, type);
        stream.Position = 0;
        return stream;
    }
}

/// <summary>A handler was called with input that does not match its contract.</summary>
public sealed class InvalidInputException(string message, Exception? inner = null) : Exception(message, inner);
