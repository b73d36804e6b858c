using System.CommandLine;
using System.Globalization;
using StepML.Storage;

namespace StepML.Cli.Commands;

internal static class Common
{
    public static Option<string> StoreOption() => new("--store")
    {
        Description = "Where runs and datasets live: a folder or s3://BUCKET[/PREFIX]",
        DefaultValueFactory = _ => ObjectStores.DefaultFolder,
    };

    /// <summary>Opens the store of a command that only reads it (runs, history, resume, predict, ...): a folder that
    /// does not exist is a mistyped --store (exit 2), not a new empty store to create and report as empty.</summary>
    /// <param name="modelOrRun">predict, evaluate, export: a MODEL that is a local .tensor file needs no store.</param>
    public static IObjectStore OpenExistingStore(string uri, string? modelOrRun = null)
    {
        if (modelOrRun is not null && File.Exists(modelOrRun)) return ObjectStores.Open(uri);
        var folder = ObjectStores.FolderOf(uri);
        if (folder is { Length: > 0 } && !Directory.Exists(folder) && !File.Exists(folder))
            throw new DirectoryNotFoundException($"--store '{uri}': there is no store folder '{Path.GetFullPath(folder)}': check the path (run, demo and search create {ObjectStores.DefaultFolder} in the folder they ran in unless given --store)");
        return ObjectStores.Open(uri);
    }

    /// <summary>An input file the command reads: a missing path and a folder given in its place are both refused
    /// (exit 2) with what to give instead.</summary>
    /// <param name="what">What the file is, as the message names it ("job spec", "--constants").</param>
    public static void RequireFile(FileInfo file, string what)
    {
        if (Directory.Exists(file.FullName))
            throw new FileNotFoundException($"{what} '{file.FullName}' is a folder, not a file: give the file itself (e.g. {Path.Combine(file.ToString(), "NAME")})");
        if (!file.Exists) throw new FileNotFoundException($"{what} '{file.FullName}' does not exist");
    }

    public static Option<string?> LedgerOption() => new("--ledger")
    {
        Description = "Who owns each run: dynamodb://TABLE (the stack's LedgerTableName) or a folder. Default: $STEPML_LEDGER, else the folder store's own ledger/ folder; an s3:// store needs one",
    };

    /// <summary>The ledger the option (or STEPML_LEDGER) names, else the store's default; read once at the CLI's edge.</summary>
    public static StepML.Storage.Ledger.IRunLedger OpenLedger(string? option, IObjectStore store) =>
        StepML.Storage.Ledger.RunLedgers.Open(option ?? Environment.GetEnvironmentVariable(StepML.Storage.Ledger.RunLedgers.Variable), store,
            Environment.GetEnvironmentVariable(StepML.Storage.Ledger.DynamoDbRunLedger.EndpointVariable));

    public static Option<bool> QuietOption() => new("--quiet") { Description = "Print only the summary: no per-round lines or progress" };

    public static Option<int> ConcurrencyOption() => new("--concurrency")
    {
        Description = "How many Map iterations (workers, mergers) run at once in the local engine",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    /// <summary>" --store S" for a hint the CLI prints, so it works as printed; empty for the default store.</summary>
    public static string StoreHint(string store) => store == ObjectStores.DefaultFolder ? "" : $" --store {store}";

    /// <summary>" --store S" naming an open store (a folder by its path); empty for the default .stepml here.</summary>
    public static string StoreHint(IObjectStore store) => store switch
    {
        FileObjectStore folder when Path.GetFullPath(folder.Root) == Path.GetFullPath(ObjectStores.DefaultFolder) => "",
        FileObjectStore folder => $" --store {folder.Root}",
        _ => $" --store {store.Uri}",
    };

    /// <summary>Where a key of the store is, as a user opens it: a file path for a folder store, else the URI.</summary>
    public static string Location(IObjectStore store, string key) =>
        store is FileObjectStore folder ? Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(folder.Root, key)) : $"{store.Uri}/{key}";

    public static string F(double value, string format = "F6") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Percent(double? value) => value is { } v ? (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "–";
}
