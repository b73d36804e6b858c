using System.CommandLine;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.ServeLambda;

/// <summary>
/// <c>stepml invoke FUNCTION</c>: one invocation of one handler in a fresh process, as Lambda runs one event in a
/// sandbox (<c>sam local invoke</c>'s role). For replaying a task from a run's history, and for measuring one task's
/// own memory and /tmp (bench/partition_map.sh), which an in-process engine running many tasks cannot separate.
/// </summary>
internal static class InvokeCommand
{
    public static Command Create()
    {
        var function = new Argument<string>("FUNCTION")
        {
            Description = "The function: Prepare, Worker, Merge, Decide, Finalize, RecordFailure or Partition (or stepml-NAME, or its ARN)",
        };
        var payload = new Option<string>("--payload")
        {
            Description = "The event: a JSON file, or - for standard input",
            DefaultValueFactory = _ => "-",
        };
        var store = Commands.Common.StoreOption();
        var command = new Command("invoke",
            "Run one handler once on one event and print its result (JSON) on standard output, with the settings a deployed function " +
            "reads from its environment (STEPML_CACHE_MB, STEPML_PARTITION_RANGE_MB, STEPML_LEDGER, ...). A handler's exception ends the " +
            "command with its type name, as the state machine would see it (exit 2 for bad input, 1 for a fault).")
        {
            function, payload, store,
        };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(function)!;
            var objectStore = ObjectStores.Open(parse.GetValue(store)!);
            // The settings a deployed function reads from its environment (STEPML_CACHE_MB, STEPML_PARTITION_RANGE_MB, ...).
            var table = new LambdaFunctionTable(new FunctionContext(FunctionSettings.FromEnvironment() with { StoreUri = objectStore.Uri }, objectStore));
            var qualified = name.Contains(':') || name.StartsWith(LambdaFunctionTable.NamePrefix, StringComparison.Ordinal) ? name : LambdaFunctionTable.NamePrefix + name;
            if (!table.TryResolve(qualified, null, out _, out var handler))
                throw new UsageException($"FUNCTION '{name}': no such function; give one of {string.Join(", ", table.Names.Select(n => n[LambdaFunctionTable.NamePrefix.Length..]))}");
            var path = parse.GetValue(payload)!;
            await using var input = path == "-" ? Console.OpenStandardInput() : OpenPayload(path);
            await using var output = await handler(input).ConfigureAwait(false);
            // A state is at most 256 KiB (the engine refuses more), so the result is printed whole.
            using var reader = new StreamReader(output);
            Console.Out.WriteLine(await reader.ReadToEndAsync(ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static FileStream OpenPayload(string path) =>
        File.Exists(path) ? File.OpenRead(path) : throw new UsageException($"--payload {path}: no such file; give a JSON file or - for standard input");
}
