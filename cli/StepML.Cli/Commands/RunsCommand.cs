using System.CommandLine;
using System.Globalization;
using StepML.Cli.Runs;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml runs</c>: every run in a store with its status, rounds, loss, cost and start time.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var store = StoreOption();
        var command = new Command("runs", "List the runs in a store: status (finished, failed, running), rounds, final or latest training loss, estimated cost, start time") { store };
        command.SetAction(async (parse, ct) =>
        {
            var reader = new RunReader(OpenExistingStore(parse.GetValue(store)!));
            var overviews = new List<RunOverview>();
            foreach (var id in await reader.ListRunIdsAsync(ct).ConfigureAwait(false))
                overviews.Add(await reader.OverviewAsync(id, ct).ConfigureAwait(false));
            if (overviews.Count == 0)
            {
                Console.WriteLine($"no runs in {reader.Store.Uri}");
                return 0;
            }
            Console.Write(Format(overviews.OrderBy(o => o.Start ?? DateTimeOffset.MaxValue).ThenBy(o => o.RunId, StringComparer.Ordinal).ToList()));
            return 0;
        });
        return command;
    }

    internal static string Format(IReadOnlyList<RunOverview> runs)
    {
        var rows = runs.Select(r => new[]
        {
            r.RunId,
            r.Status switch { RunStatus.Finished => "finished", RunStatus.Failed => "failed: " + r.Failure!.Error, _ => "running" },
            r.Rounds.ToString(CultureInfo.InvariantCulture),
            r.Loss is { } loss ? F(loss) : "–",
            "$" + r.CostUsd.ToString("F5", CultureInfo.InvariantCulture),
            r.Start is { } start ? start.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "–",
        }).ToList();
        string[] header = ["run", "status", "rounds", "loss", "cost", "started (UTC)"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows) sb.AppendLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        return sb.ToString();
    }
}
