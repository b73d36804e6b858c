using System.CommandLine;
using System.Globalization;
using StepML.Cli.Gc;
using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary><c>stepml gc</c>: deletes partition sets no run references and the round statistics of finished runs.</summary>
internal static class GcCommand
{
    public static Command Create()
    {
        var store = Common.StoreOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be deleted, delete nothing" };
        var command = new Command("gc", "Delete partition sets no run references and round statistics of finished runs (models, records and reports are kept)") { store, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var objectStore = Common.OpenExistingStore(parse.GetValue(store)!);
            var garbage = await StoreCollector.FindAsync(objectStore, ct).ConfigureAwait(false);
            var dry = parse.GetValue(dryRun);
            foreach (var group in garbage.GroupBy(g => (g.Reason, Owner: Owner(g.Key))))
                Console.WriteLine($"{(dry ? "would delete" : "delete")} {group.Key.Owner}: {group.Count()} objects, {Bytes(group.Sum(g => g.Size))} ({group.Key.Reason})");
            if (!dry) await StoreCollector.DeleteAsync(objectStore, garbage, ct).ConfigureAwait(false);
            Console.WriteLine($"{(dry ? "would free" : "freed")} {Bytes(garbage.Sum(g => g.Size))} in {garbage.Count} objects from {objectStore.Uri}");
            return 0;
        });
        return command;
    }

    // partitions/<digest> or runs/<runId>: what a line of output is about.
    private static string Owner(string key)
    {
        var parts = key.Split('/');
        return parts.Length > 1 ? $"{parts[0]}/{parts[1]}" : key;
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes + " bytes",
    };
}
