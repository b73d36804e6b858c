using StepML.Core.Cost;
using StepML.Local;

namespace StepML.Cli;

/// <summary>
/// statemachines/functions.json, the file the CDK stack sizes its functions from (embedded in this binary at build
/// time): the local engine enforces the same timeouts, and workers get the same round budget.
/// </summary>
public sealed class DeployedFunctions
{
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
        var sizes = FunctionSizes.Embedded(typeof(DeployedFunctions).Assembly);
        var worker = sizes["Worker"];
        return new DeployedFunctions(sizes.ToDictionary(f => f.Key, f => new FunctionLimits(f.Value.TimeoutSeconds, f.Value.MemoryMb), StringComparer.Ordinal),
            worker.RoundSeconds(worker.TimeoutSeconds));
    }
}
