using System.Text.Json;

namespace StepML.Core.Cost;

/// <summary>One function as statemachines/functions.json deploys it.</summary>
/// <param name="RoundBudgetFraction">The share of the timeout a worker computes in before it writes its statistic (1
/// for functions without a round budget).</param>
public sealed record FunctionSize(string Name, int MemoryMb, int TimeoutSeconds, int EphemeralStorageMb, double RoundBudgetFraction)
{
    /// <summary>The seconds of local work the round budget allows in <paramref name="timeoutSeconds"/> (the timeout, or a
    /// lowered one).</summary>
    public int RoundSeconds(int timeoutSeconds) => (int)Math.Floor(timeoutSeconds * RoundBudgetFraction);
}

/// <summary>
/// The one reader of statemachines/functions.json (<c>{"functions": [{"name", "memoryMb", "timeoutSeconds",
/// "ephemeralStorageMb", "roundBudgetFraction"?}]}</c>), the catalog the CDK stack sizes the functions from, the local
/// engine takes its timeouts from and a run's cost is billed at. Each project embeds the file and passes its stream;
/// the CDK app compiles this file in (it does not reference StepML.Core).
/// </summary>
public static class FunctionSizes
{
    public const string ResourceName = "functions.json";

    public static IReadOnlyDictionary<string, FunctionSize> Parse(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var result = new Dictionary<string, FunctionSize>(StringComparer.Ordinal);
        foreach (var f in document.RootElement.GetProperty("functions").EnumerateArray())
        {
            var name = f.GetProperty("name").GetString()!;
            result[name] = new FunctionSize(name, f.GetProperty("memoryMb").GetInt32(), f.GetProperty("timeoutSeconds").GetInt32(),
                f.GetProperty("ephemeralStorageMb").GetInt32(), f.TryGetProperty("roundBudgetFraction", out var fraction) ? fraction.GetDouble() : 1.0);
        }
        return result;
    }

    /// <summary>The file embedded in <paramref name="assembly"/> under <see cref="ResourceName"/>.</summary>
    public static IReadOnlyDictionary<string, FunctionSize> Embedded(System.Reflection.Assembly assembly)
    {
        using var stream = assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"statemachines/{ResourceName} is not embedded in {assembly.GetName().Name}");
        return Parse(stream);
    }
}
