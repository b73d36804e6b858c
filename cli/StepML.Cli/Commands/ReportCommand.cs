using System.CommandLine;
using StepML.Cli.Runs;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml report RUN</c>: (re)writes a run's report.html from the store, with the worker timeline.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run id" };
        var store = StoreOption();
        var optimum = new Option<double?>("--optimum") { Description = "The optimal training loss, when known, for the gap plot" };
        var command = new Command("report", "Write runs/RUN/report.html from what the store holds (finished, failed or stopped runs): curves, round durations, the worker timeline from the history, cost, settings, how to load the model")
        {
            run, store, optimum,
        };
        command.SetAction(async (parse, ct) =>
        {
            var runId = ObjectKey.ValidateRunId(parse.GetValue(run)!, "RUN");
            var objectStore = OpenExistingStore(parse.GetValue(store)!);
            // Checked before report.html is rewritten: the gap plotted is (F − F*)/F* on a log axis.
            if (parse.GetValue(optimum) is { } best && !(best > 0 && double.IsFinite(best)))
                throw new UsageException($"--optimum {best}: give the optimal training loss, a finite number > 0 (the report plots the relative gap (F − F*)/F*)");
            var key = await RunReport.WriteAsync(new RunReader(objectStore), runId, parse.GetValue(optimum), "given with --optimum", ct).ConfigureAwait(false);
            Console.WriteLine($"wrote {Location(objectStore, key)}");
            return 0;
        });
        return command;
    }
}
