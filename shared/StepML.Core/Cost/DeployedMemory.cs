using System.Text.Json;
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

    /// <summary>Reads functions.json (<c>{"functions": [{"name", "memoryMb", ...}]}</c>).</summary>
    public static DeployedMemory Parse(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var sizes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in document.RootElement.GetProperty("functions").EnumerateArray())
            sizes[f.GetProperty("name").GetString()!] = f.GetProperty("memoryMb").GetInt32();
        return new DeployedMemory(sizes);
    }

    /// <summary>The sizes a job's run is billed at: the catalog's, with the job's worker memory.</summary>
    public DeployedMemory For(JobSpec job) => With(Worker, job.Workers.MemoryMb);

    public DeployedMemory With(string function, int memoryMb) =>
        new(new Dictionary<string, int>(_memoryMb, StringComparer.Ordinal) { [function] = memoryMb });
}
