using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Core.Search;
using StepML.Functions.Search;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml search SEARCH.json</c>: a hyper-parameter search through statemachines/search.asl.json on the local
/// engine, its trials nested executions of the training machine.</summary>
internal static class SearchCommand
{
    private const int MaxSpecBytes = 256 * 1024;

    public static Command Create()
    {
        var spec = new Argument<FileInfo>("SEARCH.json") { Description = "The search spec (see README, 'Hyper-parameter search'): a base job, parameters with values or ranges, a strategy, a budget" };
        var store = StoreOption();
        var ledger = LedgerOption();
        var concurrency = ConcurrencyOption();
        var quiet = QuietOption();
        var command = new Command("search", "Search hyper-parameters: run trials of a base job (grid, random, or successive halving that resumes the best trials for more rounds) through the search state machine on the local engine; prints the trial table and the best configuration, and writes searches/ID/report.html")
        {
            spec, store, ledger, concurrency, quiet,
        };
        command.SetAction(async (parse, ct) => await RunAsync(parse.GetValue(spec)!, parse.GetValue(store)!, parse.GetValue(ledger), parse.GetValue(concurrency), parse.GetValue(quiet), ct).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, string storeUri, string? ledgerUri, int concurrency, bool quiet, CancellationToken ct)
    {
        RequireFile(file, "search spec");
        if (file.Length > MaxSpecBytes)
            throw new SearchSpecException("$", $"{file.Name} is {file.Length:N0} bytes; a search spec is the execution input, limited to {MaxSpecBytes / 1024} KiB");
        var store = ObjectStores.Open(storeUri);
        var node = await LoadAsync(file, store, quiet, ct).ConfigureAwait(false);
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions { Concurrency = concurrency, Ledger = OpenLedger(ledgerUri, store) });
        var clock = Stopwatch.StartNew();
        var printed = new HashSet<(int, int)>();
        if (!quiet)
            pipeline.SearchRanked += state => PrintBatch(store, state, printed, clock);
        var result = await pipeline.SearchAsync(node.ToJsonString(), ct).ConfigureAwait(false);
        if (result.Status != "SUCCEEDED")
        {
            Console.Error.WriteLine($"stepml: search {result.Status}: {result.Error}: {CliErrors.Clip(RunCommand.CauseMessage(result.Cause))}");
            return CliErrors.IsInputError(result.Error) ? 2 : 1;
        }
        var summary = JsonSerializer.Deserialize(result.OutputJson!, SearchJson.Default.SearchResult)!;
        var table = JsonSerializer.Deserialize(await store.GetAsync(summary.TrialsKey, ct).ConfigureAwait(false), SearchJson.Default.TrialTable)!;
        PrintTable(table, summary);
        Console.WriteLine($"search {summary.SearchId} ({summary.Strategy}) finished in {clock.Elapsed.TotalSeconds:F1} s: {summary.Trials} trials, {summary.TotalRounds} rounds, estimated cost ${summary.CostUsd:F5}; {summary.StopReason}");
        if (summary.Best is { } best)
            Console.WriteLine($"  best: trial {best.Trial} ({SearchReport(best)}) validation loss {F(best.ValidationLoss ?? double.NaN)} after {best.Rounds} rounds; model {summary.BestModelKey} (stepml predict {best.RunId} DATA{StoreHint(store)})");
        else
            Console.WriteLine("  no trial finished with a validation loss");
        Console.WriteLine($"  trials {Location(store, summary.TrialsKey)}; report {Location(store, summary.ReportKey)}");
        return summary.Best is null ? 1 : 0;
    }

    private static string SearchReport(TrialRecord t) => string.Join(", ", t.Parameters.Select(p => $"{p.Key}={p.Value?.ToJsonString()}"));

    /// <summary>Reads the spec, inlines a base job named by a local file (relative to the spec, else the working
    /// directory), imports the job's local dataset files into the store, and validates it all as Plan will: a bad spec
    /// exits 2 here, naming the file and the field.</summary>
    private static async Task<JsonObject> LoadAsync(FileInfo file, IObjectStore store, bool quiet, CancellationToken ct)
    {
        var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        try
        {
            var node = JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false), documentOptions: options) as JsonObject
                       ?? throw new SearchSpecException("$", "must be a JSON object (the search spec)");
            var jobDirectory = file.DirectoryName!;
            if (node["job"] is JsonValue v && v.TryGetValue<string>(out var jobFile))
            {
                var local = new[] { Path.Combine(file.DirectoryName!, jobFile), Path.GetFullPath(jobFile) }.FirstOrDefault(File.Exists);
                if (local is not null)
                {
                    try
                    {
                        node["job"] = JsonNode.Parse(await File.ReadAllTextAsync(local, ct).ConfigureAwait(false), documentOptions: options) as JsonObject
                                      ?? throw new SearchSpecException("job", $"{jobFile} does not hold a job spec object");
                    }
                    catch (JsonException e)
                    {
                        // The base job's own syntax error: name that file, not the search spec.
                        throw new SearchSpecException("job", $"{jobFile}: {JsonErrorText.Describe(e)}");
                    }
                    jobDirectory = Path.GetDirectoryName(local)!;
                }
                else if (!await store.ExistsAsync(ObjectKey.Validate(jobFile, "job"), ct).ConfigureAwait(false))
                    throw new SearchSpecException("job", $"'{jobFile}' is neither a file (next to {file.Name} or in the working directory) nor a key in the store {store.Uri}");
            }
            var spec = SearchSpecParser.Parse(node);
            if (node["job"] is JsonObject job)
            {
                var rounds = SearchPlanner.Validate(spec, job);
                await RunCommand.ImportDatasetFilesAsync(store, job, JobSpecParser.Parse(job.ToJsonString()), jobDirectory, quiet, ct).ConfigureAwait(false);
                if (!quiet)
                    Console.WriteLine($"search {spec.Name}: {SearchPlanner.Trials(spec).Count} trials ({spec.Strategy.Type}), rungs of {string.Join(", ", SearchPlanner.Rungs(spec, rounds))} rounds, at most {(spec.MaxConcurrency == 0 ? "all" : spec.MaxConcurrency.ToString())} at once; store {store.Uri}");
            }
            return node;
        }
        catch (JsonException e)
        {
            throw new SearchSpecException("$", JsonErrorText.Describe(e)).InFile(file.Name);
        }
        catch (SearchSpecException e) when (!e.Message.StartsWith(file.Name, StringComparison.Ordinal))
        {
            throw e.InFile(file.Name);
        }
    }

    // One line per trial as its batch is ranked: rung, rounds, validation loss, cost.
    private static void PrintBatch(IObjectStore store, JsonObject state, HashSet<(int, int)> printed, Stopwatch clock)
    {
        var id = state["searchId"]?.GetValue<string>();
        if (id is null) return;
        TrialTable table;
        try
        {
            table = JsonSerializer.Deserialize(store.GetAsync(SearchLayout.Trials(id)).GetAwaiter().GetResult(), SearchJson.Default.TrialTable)!;
        }
        catch (Exception e) when (e is IOException or JsonException or ObjectNotFoundException)
        {
            return;
        }
        foreach (var t in table.Trials)
            foreach (var p in t.Rungs)
                if (printed.Add((t.Trial, p.Rung)))
                    Console.WriteLine($"rung {p.Rung}  trial {t.Trial,3}  {SearchReport(t),-48}  rounds {p.Rounds,4}  val loss {(p.ValidationLoss is { } l ? F(l) : "failed  ")}  cost ${p.CostUsd:F5}  elapsed {clock.Elapsed.TotalSeconds,6:F1} s"
                        + (p.ValidationLoss is null && t.Error is { } error ? $"  {CliErrors.Clip(error)}" : ""));
    }

    private static void PrintTable(TrialTable table, SearchResult result)
    {
        Console.WriteLine($"{"trial",5}  {"parameters",-48}  {"rung",4}  {"rounds",6}  {"val loss",10}  {"cost $",9}  status");
        foreach (var t in table.Trials.OrderBy(t => t.ValidationLoss ?? double.PositiveInfinity).ThenBy(t => t.Trial))
            Console.WriteLine($"{t.Trial,5}  {SearchReport(t),-48}  {t.Rung,4}  {t.Rounds,6}  {(t.ValidationLoss is { } l ? F(l) : "–"),10}  {t.CostUsd,9:F5}  {t.Status}{(result.Best?.Trial == t.Trial ? "  <- best" : "")}");
    }
}
