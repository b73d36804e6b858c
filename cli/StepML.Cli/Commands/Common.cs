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
