using System.Text.Json.Nodes;
using StepML.Local;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Decorates the real handlers: sees each call's input, may delay it, fail it, or act after it.
/// Used to shuffle completion order and to cause faults the pipeline cannot be made to produce otherwise.</summary>
internal sealed class InterceptingInvoker(
    IFunctionInvoker inner,
    Func<string, JsonNode, Task>? before = null,
    Func<string, JsonNode, Task>? after = null) : IFunctionInvoker
{
    public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        await payload.CopyToAsync(copy, ct);
        var bytes = copy.ToArray();
        var node = JsonNode.Parse(bytes)!;
        var function = functionName[(functionName.LastIndexOf('-') + 1)..];
        if (before is not null) await before(function, node);
        var output = await inner.InvokeAsync(functionName, new MemoryStream(bytes), ct);
        if (after is not null) await after(function, node);
        return output;
    }
}

/// <summary>Options that delay each Worker call by a seeded random 0–39 ms and record, in <paramref name="finishOrder"/>,
/// the partitions in the order their workers returned: a run with them finishes its workers out of partition order,
/// which must not change any result.</summary>
internal static class ShuffledWorkers
{
    public static LocalPipelineOptions Options(int seed, List<int> finishOrder)
    {
        var random = new Random(seed);
        return new LocalPipelineOptions
        {
            WrapFunctions = inner => new InterceptingInvoker(inner,
                before: async (function, input) =>
                {
                    if (function != "Worker") return;
                    int delay;
                    lock (random) delay = random.Next(0, 40);
                    await Task.Delay(delay);
                },
                after: (function, input) =>
                {
                    if (function == "Worker") lock (finishOrder) finishOrder.Add(input["partition"]!.GetValue<int>());
                    return Task.CompletedTask;
                }),
        };
    }
}

/// <summary>An injected worker crash (a fault tests cannot cause through real inputs).</summary>
internal sealed class InjectedFaultException(string message) : Exception(message);
