using System.Text.Json;

namespace StepML.Infra;

// One function's deployed size from statemachines/functions.json, the file the local engine reads too, so the stack
// and `stepml` enforce the same timeouts. Embedded in this assembly at build time.
internal sealed record DeployedFunction(string Name, int MemoryMb, int TimeoutSeconds, int EphemeralStorageMb, double RoundBudgetFraction)
{
    // The seconds a worker may compute before it must write its statistic (STEPML_WORKER_ROUND_SECONDS).
    public int RoundSeconds(int timeoutSeconds) => (int)Math.Floor(timeoutSeconds * RoundBudgetFraction);
}

internal static class DeployedFunctions
{
    public const string ResourceName = "functions.json";

    private static readonly Lazy<IReadOnlyDictionary<string, DeployedFunction>> s_all = new(Load);

    public static DeployedFunction Get(string name) =>
        s_all.Value.TryGetValue(name, out var function)
            ? function
            : throw new InvalidOperationException($"statemachines/{ResourceName} has no function '{name}': add it there with memoryMb, timeoutSeconds and ephemeralStorageMb");

    public static IReadOnlyDictionary<string, DeployedFunction> All => s_all.Value;

    private static IReadOnlyDictionary<string, DeployedFunction> Load()
    {
        using var stream = typeof(DeployedFunctions).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(DeployedFunctions).Assembly.GetName().Name}");
        using var document = JsonDocument.Parse(stream);
        var result = new Dictionary<string, DeployedFunction>(StringComparer.Ordinal);
        foreach (var f in document.RootElement.GetProperty("functions").EnumerateArray())
        {
            var name = f.GetProperty("name").GetString()!;
            result[name] = new DeployedFunction(
                name,
                f.GetProperty("memoryMb").GetInt32(),
                f.GetProperty("timeoutSeconds").GetInt32(),
                f.GetProperty("ephemeralStorageMb").GetInt32(),
                f.TryGetProperty("roundBudgetFraction", out var fraction) ? fraction.GetDouble() : 1.0);
        }
        return result;
    }
}
