using System.CommandLine;
using System.Text.Json.Nodes;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml resume RUN</c>: continues a run from its last completed round after a kill, a failure or a stop
/// rule (the same input as the console's <c>{"resume": {"runId": ...}}</c>).</summary>
internal static class ResumeCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run id to continue" };
        var store = StoreOption();
        var ledger = LedgerOption();
        var maxRounds = new Option<int?>("--max-rounds") { Description = "Raise stop.maxRounds to train further than the job said (job.json stays as written)" };
        var force = new Option<bool>("--force") { Description = "Take the run over even though the ledger says its owner is still running (an aborted cloud execution, a process on another machine that is gone)" };
        var concurrency = ConcurrencyOption();
        var quiet = new Option<bool>("--quiet") { Description = "Print only the final summary" };
        var command = new Command("resume", "Continue a run from its last completed round (after a kill, a failure or a stop rule); the result is bit-identical to an uninterrupted run")
        {
            run, store, ledger, maxRounds, force, concurrency, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var runId = ObjectKey.ValidateRunId(parse.GetValue(run)!, "RUN");
            if (parse.GetValue(maxRounds) is < 1)
                throw new UsageException($"--max-rounds {parse.GetValue(maxRounds)}: use a whole number ≥ 1");
            var objectStore = OpenExistingStore(parse.GetValue(store)!);
            var request = new JsonObject { ["runId"] = runId };
            if (parse.GetValue(maxRounds) is { } n) request["maxRounds"] = n;
            if (parse.GetValue(force)) request["force"] = true;
            var input = new JsonObject { ["resume"] = request }.ToJsonString();
            var result = await RunCommand.Execute(objectStore, input, parse.GetValue(concurrency), parse.GetValue(quiet), ct,
                OpenLedger(parse.GetValue(ledger), objectStore)).ConfigureAwait(false);
            return CliErrors.ExitCode(result);
        });
        return command;
    }
}
