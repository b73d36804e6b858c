using StepML.Core.Jobs;

namespace StepML.Core.Cost;

/// <summary>
/// The memory each Lambda function is deployed with, from statemachines/functions.json (the catalog the CDK app sizes
/// the functions from), with the job's <c>workers.memoryMb</c> for the Worker. A function is billed at these sizes.
/// </summary>
public sealed class DeployedMemory
{
    private readonly IReadOnlyDictionary<string, int> _memoryMb;

    public DeployedMemory(IReadOnlyDictionary<string, int> memoryMb) => _memoryMb = memoryMb;

    public const string Prepare = "Prepare";
    public const string Partition = "Partition";
    public const string Worker = "Worker";
    public const string Merge = "Merge";
    public const string Decide = "Decide";
    public const string Finalize = "Finalize";

    public int this[string function] => _memoryMb.TryGetValue(function, out var mb)
        ? mb
        : throw new KeyNotFoundException($"statemachines/functions.json has no function '{function}'");

    public IReadOnlyDictionary<string, int> All => _memoryMb;

    /// <summary>The memory sizes of functions.json (<see cref="FunctionSizes"/>).</summary>
    public static DeployedMemory Of(IReadOnlyDictionary<string, FunctionSize> sizes) =>
        new(sizes.ToDictionary(f => f.Key, f => f.Value.MemoryMb, StringComparer.Ordinal));

    /// <summary>The sizes a job's run is billed at: the catalog's, with the job's worker memory.</summary>
    public DeployedMemory For(JobSpec job) => With(Worker, job.Workers.MemoryMb);

    public DeployedMemory With(string function, int memoryMb) =>
        new(new Dictionary<string, int>(_memoryMb, StringComparer.Ordinal) { [function] = memoryMb });
}
