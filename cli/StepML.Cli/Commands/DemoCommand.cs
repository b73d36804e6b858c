using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Training;
using StepML.Functions;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml demo</c>: generate Higgs-shaped data, train logistic regression with distributed Newton (or another
/// algorithm) through the state machine, and compare with the exact single-machine optimum.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var rows = new Option<long>("--rows") { Description = "Rows of Higgs-shaped data to generate", DefaultValueFactory = _ => 200_000 };
        var features = new Option<int>("--features") { Description = "Features per row", DefaultValueFactory = _ => 28 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions, one worker each", DefaultValueFactory = _ => 8 };
        var algorithm = new Option<string>("--algorithm") { Description = "newton, cocoa, admm, ma-sgd or ga-sgd", DefaultValueFactory = _ => "newton" };
        var shards = new Option<int>("--shards") { Description = "Merge shards (1 = AllReduce, more = ScatterReduce)", DefaultValueFactory = _ => 1 };
        var rounds = new Option<int>("--rounds") { Description = "Maximum rounds", DefaultValueFactory = _ => 30 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data and of the run", DefaultValueFactory = _ => 42 };
        var store = StoreOption();
        var concurrency = ConcurrencyOption();
        var quiet = QuietOption();
        var command = new Command("demo", "Generate 200,000 Higgs-shaped rows, partition them into 8, train logistic regression with distributed Newton through the state machine (stopping on a certified gap of 0.001%), and report the gap to the single-machine optimum")
        {
            rows, features, partitions, algorithm, shards, rounds, seed, store, concurrency, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var n = parse.GetValue(rows);
            var d = parse.GetValue(features);
            var s = parse.GetValue(seed);
            if (n < 1) throw new UsageException($"--rows {n}: give at least 1 row");
            var datasetKey = $"datasets/demo-higgs-{n}x{d}-seed{s}.libsvm";
            var pattern = parse.GetValue(shards) > 1 ? "scatter-reduce" : "all-reduce";
            var job = new JsonObject
            {
                ["name"] = "demo",
                ["dataset"] = new JsonObject { ["path"] = datasetKey, ["format"] = "libsvm", ["features"] = d, ["partitions"] = parse.GetValue(partitions), ["validationFraction"] = 0.1 },
                ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = 1e-4 },
                ["algorithm"] = new JsonObject { ["type"] = parse.GetValue(algorithm), ["learningRate"] = 1.0, ["batchSize"] = 1000, ["localEpochs"] = 3, ["rho"] = 0.02 },
                ["communication"] = new JsonObject { ["channel"] = "s3", ["pattern"] = pattern, ["shards"] = parse.GetValue(shards) },
                ["stop"] = parse.GetValue(algorithm) == "newton"
                    ? new JsonObject { ["maxRounds"] = parse.GetValue(rounds), ["tolerance"] = 1e-6, ["gap"] = 1e-5 }
                    : new JsonObject { ["maxRounds"] = parse.GetValue(rounds), ["tolerance"] = 1e-6 },
                ["seed"] = s,
            };
            // The options are checked as the job they become before any data is generated or written.
            CheckOptions(job);
            var objectStore = ObjectStores.Open(parse.GetValue(store)!);
            if (!await objectStore.ExistsAsync(datasetKey, ct).ConfigureAwait(false))
            {
                if (!parse.GetValue(quiet)) Console.WriteLine($"generating {n:N0} Higgs-shaped rows with {d} features -> {datasetKey}");
                var temp = Path.GetTempFileName();
                try
                {
                    using (var progress = new Progress.TerminalProgress("generating", null, parse.GetValue(quiet)))
                    await using (var writer = new StreamWriter(new Progress.ProgressStream(File.Create(temp), progress)))
                        SyntheticData.WriteHiggsLike(writer, n, d, s);
                    await using var file = File.OpenRead(temp);
                    await objectStore.PutAsync(datasetKey, file, cancellationToken: ct).ConfigureAwait(false);
                }
                finally
                {
                    File.Delete(temp);
                }
            }
            var result = await RunCommand.Execute(objectStore, job.ToJsonString(), parse.GetValue(concurrency), parse.GetValue(quiet), ct).ConfigureAwait(false);
            if (!result.Succeeded || result.Summary is null) return CliErrors.ExitCode(result);

            // The reference: Newton's method on all training partitions at once, same objective and λ.
            var parts = new List<Partition>();
            for (var p = 0; p < parse.GetValue(partitions); p++)
            {
                var key = await RunData.PartitionKeyAsync(objectStore, result.RunId!, p, ct).ConfigureAwait(false);
                parts.Add(Partition.Decode(await objectStore.GetAsync(key, ct).ConfigureAwait(false), key));
            }
            var optimum = LogisticOptimum.Solve(parts, 1e-4);
            var gap = (result.Summary.TrainLoss - optimum.Objective) / optimum.Objective;
            Console.WriteLine($"  single-machine optimum (Newton, {optimum.Iterations} iterations): loss {F(optimum.Objective)}; gap {F(gap * 100, "F3")}%");
            await Runs.RunReport.WriteAsync(new Runs.RunReader(objectStore), result.RunId!, optimum.Objective, $"Newton's method on all training partitions, {optimum.Iterations} iterations", ct).ConfigureAwait(false);
            Console.WriteLine($"demo done in {clock.Elapsed.TotalSeconds:F1} s. See the run: stepml history {result.RunId}{StoreHint(objectStore)}; its report: {Location(objectStore, RunLayout.Report(result.RunId!))}");
            return 0;
        });
        return command;
    }

    /// <summary>The demo option each job field comes from, so an error names what the user typed.</summary>
    private static readonly Dictionary<string, string> s_options = new()
    {
        ["dataset.features"] = "--features", ["dataset.partitions"] = "--partitions", ["algorithm.type"] = "--algorithm",
        ["communication.shards"] = "--shards", ["stop.maxRounds"] = "--rounds",
    };

    private static void CheckOptions(JsonObject job)
    {
        try
        {
            JobSpecParser.Parse(job.ToJsonString());
        }
        catch (JobSpecException e) when (s_options.TryGetValue(e.Field, out var option))
        {
            throw e.From($"{option} {FieldValue(job, e.Field)}");
        }
    }

    private static string? FieldValue(JsonObject job, string field)
    {
        JsonNode? node = job;
        foreach (var part in field.Split('.')) node = node?[part];
        return node?.ToJsonString().Trim('"');
    }
}
