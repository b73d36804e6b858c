using StepML.Core.Cost;

namespace StepML.Infra;

// Each function's deployed size from statemachines/functions.json, the file the local engine reads too, so the stack
// and `stepml` enforce the same timeouts. Embedded in this assembly at build time and read by StepML.Core's
// FunctionSizes, compiled into this app (see the project file).
internal static class DeployedFunctions
{
    private static readonly Lazy<IReadOnlyDictionary<string, FunctionSize>> s_all = new(() => FunctionSizes.Embedded(typeof(DeployedFunctions).Assembly));

    public static FunctionSize Get(string name) =>
        s_all.Value.TryGetValue(name, out var function)
            ? function
            : throw new InvalidOperationException($"statemachines/{FunctionSizes.ResourceName} has no function '{name}': add it there with memoryMb, timeoutSeconds and ephemeralStorageMb");

    public static IReadOnlyDictionary<string, FunctionSize> All => s_all.Value;
}
