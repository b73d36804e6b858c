using System.Text.Json;
using StepML.Local;

namespace StepML.Cli;

/// <summary>
/// statemachines/functions.json, the file the CDK stack sizes its functions from (embedded in this binary at build
/// time): the local engine enforces the same timeouts, and workers get the same round budget.
/// </summary>
public sealed class DeployedFunctions
{
    private const string ResourceName = "functions.json";

    private DeployedFunctions(IReadOnlyDictionary<string, FunctionLimits> limits, double workerRoundSeconds)
    {
        Limits = limits;
        WorkerRoundSeconds = workerRoundSeconds;
    }

    /// <summary>Timeout and memory by function name (Prepare, Worker, ...).</summary>
    public IReadOnlyDictionary<string, FunctionLimits> Limits { get; }

    /// <summary>The Worker's timeout × roundBudgetFraction: how long a worker computes before it writes its statistic.</summary>
    public double WorkerRoundSeconds { get; }

    public static DeployedFunctions Load()
    {
        using var stream = typeof(DeployedFunctions).Assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"{ResourceName} is not embedded in the stepml binary");
        using var document = JsonDocument.Parse(stream);
        var limits = new Dictionary<string, FunctionLimits>(StringComparer.Ordinal);
        double workerRound = 0;
        foreach (var f in document.RootElement.GetProperty("functions").EnumerateArray())
        {
            var name = f.GetProperty("name").GetString()!;
            var timeout = f.GetProperty("timeoutSeconds").GetInt32();
            limits[name] = new FunctionLimits(timeout, f.GetProperty("memoryMb").GetInt32());
            if (name == "Worker") workerRound = Math.Floor(timeout * f.GetProperty("roundBudgetFraction").GetDouble());
        }
        return new DeployedFunctions(limits, workerRound);
    }
}
