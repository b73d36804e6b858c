using System.CommandLine;
using System.Globalization;
using StepML.Storage;

namespace StepML.Cli.Commands;

internal static class Common
{
    public static Option<string> StoreOption() => new("--store")
    {
        Description = "Where runs and datasets live: a folder (default .stepml under the current directory) or s3://BUCKET[/PREFIX]",
        DefaultValueFactory = _ => ObjectStores.DefaultFolder,
    };

    public static Option<string?> LedgerOption() => new("--ledger")
    {
        Description = "Who owns each run: dynamodb://TABLE (the stack's LedgerTableName) or a folder. Default: $STEPML_LEDGER, else the folder store's own ledger/ folder; an s3:// store needs one",
    };

    /// <summary>The ledger the option (or STEPML_LEDGER) names, else the store's default; read once at the CLI's edge.</summary>
    public static StepML.Storage.Ledger.IRunLedger OpenLedger(string? option, IObjectStore store) =>
        StepML.Storage.Ledger.RunLedgers.Open(option ?? Environment.GetEnvironmentVariable(StepML.Storage.Ledger.RunLedgers.Variable), store,
            Environment.GetEnvironmentVariable(StepML.Storage.Ledger.DynamoDbRunLedger.EndpointVariable));

    public static Option<int> ConcurrencyOption() => new("--concurrency")
    {
        Description = "How many Map iterations (workers, mergers) run at once in the local engine",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static string F(double value, string format = "F6") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Percent(double? value) => value is { } v ? (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "–";
}
