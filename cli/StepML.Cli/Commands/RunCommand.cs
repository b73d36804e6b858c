using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Functions;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml run JOB.json</c>: one training run of any job spec through the local state machine.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var job = new Argument<FileInfo>("JOB.json") { Description = "The job spec (see README, 'The job spec')" };
        var store = StoreOption();
        var concurrency = ConcurrencyOption();
        var quiet = QuietOption();
        var set = new Option<string[]>("--set")
        {
            Description = "Override a job field, FIELD=VALUE with a dotted path (repeatable): --set algorithm.rho=0.05 --set stop.maxRounds=20",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("run", "Train a model: run a job spec through the state machine on the local engine. A dataset.path that names a local file is first copied into the store under datasets/.")
        {
            job, store, concurrency, quiet, set,
        };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(job)!;
            var result = await RunAsync(file, parse.GetValue(store)!, parse.GetValue(concurrency), parse.GetValue(quiet), parse.GetValue(set) ?? [], ct).ConfigureAwait(false);
            return result.Succeeded ? 0 : 1;
        });
        return command;
    }

    private static async Task<PipelineResult> RunAsync(FileInfo file, string storeUri, int concurrency, bool quiet, string[] overrides, CancellationToken ct)
    {
        if (!file.Exists) throw new FileNotFoundException($"job spec '{file.FullName}' does not exist");
        var text = await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false);
        JobSpec spec;
        try
        {
            spec = JobSpecParser.Parse(text);
        }
        catch (JobSpecException e)
        {
            throw new JobSpecException(e.Field, $"in {file.Name}: {e.Message}");
        }
        var store = ObjectStores.Open(storeUri);
        var node = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        if (overrides.Length > 0)
        {
            JobOverrides.Apply(node, overrides);
            spec = JobOverrides.Parse(node, file.Name, overrides);
        }
        // Every file the dataset names (IDX images and labels, the test split) is imported the same way.
        foreach (var (field, path) in new[] { ("path", spec.Dataset.Path), ("labels", spec.Dataset.Labels), ("testPath", spec.Dataset.TestPath), ("testLabels", spec.Dataset.TestLabels) })
        {
            if (path.Length == 0) continue;
            var imported = await ImportLocalDatasetAsync(store, path, file.DirectoryName!, ct).ConfigureAwait(false);
            if (imported is null) continue;
            node["dataset"]![field] = imported;
            if (!quiet) Console.WriteLine($"copied {path} into the store as {imported}");
        }
        return await Execute(store, node.ToJsonString(), concurrency, quiet, ct).ConfigureAwait(false);
    }

    /// <summary>Runs an execution with per-round progress and prints the summary (shared with the demo).</summary>
    public static async Task<PipelineResult> Execute(IObjectStore store, string input, int concurrency, bool quiet, CancellationToken ct)
    {
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions { Concurrency = concurrency });
        var clock = Stopwatch.StartNew();
        if (!quiet)
        {
            pipeline.Prepared += s => Console.WriteLine($"run {s.RunId}: {s.Partitions.Length} partitions, {s.Shards.Length} shard(s), store {store.Uri}   [{clock.Elapsed.TotalSeconds:F1} s]");
            pipeline.RoundCompleted += s => Console.WriteLine(
                $"round {s.Round - 1,4}  loss {F(s.PreviousLoss ?? double.NaN)}{Validation(s)}  elapsed {clock.Elapsed.TotalSeconds,6:F1} s{(s.Action == "continue" ? "" : "  -> " + s.Action + ": " + s.Reason)}");
        }
        var result = await pipeline.RunAsync(input, cancellationToken: ct).ConfigureAwait(false);
        if (result.Succeeded && result.Summary is { } summary)
        {
            Console.WriteLine($"finished {summary.RunId} after {summary.Rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s ({summary.StopReason})");
            Console.WriteLine($"  training   loss {F(summary.TrainLoss)}{MetricText(summary.Metric, summary.TrainMetric, "  ")}");
            Console.WriteLine($"  validation loss {(summary.ValidationLoss is { } vl ? F(vl) : "–")}{MetricText(summary.Metric, summary.ValidationMetric, "  ")}");
            if (summary.TestLoss is { } tl)
                Console.WriteLine($"  test       loss {F(tl)}{MetricText(summary.Metric, summary.TestAccuracy, "  ")}");
            Console.WriteLine($"  model {summary.ModelKey}; report {RunLayout.Report(summary.RunId)}; estimated Lambda cost ${summary.CostUsd:F5}");
        }
        else if (result.Succeeded)
        {
            Console.WriteLine("nothing to train: the input was a sidecar job file");
        }
        else
        {
            Console.Error.WriteLine($"run {result.RunId ?? "(not created)"} {result.Status}: {result.Error}");
            Console.Error.WriteLine($"  {CauseMessage(result.Cause)}");
            if (result.RunId is not null) Console.Error.WriteLine($"  details: stepml history {result.RunId}{StoreHint(store)}");
        }
        return result;
    }

    /// <summary>"accuracy 71.20%" or "inertia 3.0412" after a prefix; empty when there is no value.</summary>
    internal static string MetricText(string? metric, double? value, string prefix) => value is not { } v || metric is null
        ? ""
        : metric == "accuracy" ? $"{prefix}accuracy {Percent(v)}" : $"{prefix}{metric} {F(v)}";
    /// <summary>"  val loss … acc …" for the round just decided (empty without a validation split).</summary>
    internal static string Validation(RunState s) => s.ValidationLoss is { } loss
        ? $"  val loss {F(loss)}" + (s.ValidationMetric is not { } m ? "" : s.MetricName is null or "accuracy" ? $"  acc {Percent(m)}" : $"  {s.MetricName} {F(m, "G6")}")
        : "";

    /// <summary>The errorMessage inside a Lambda-style Cause JSON, or the Cause itself.</summary>
    internal static string CauseMessage(string? cause)
    {
        if (string.IsNullOrEmpty(cause)) return "";
        try
        {
            return JsonNode.Parse(cause)?["errorMessage"]?.GetValue<string>() ?? cause;
        }
        catch (System.Text.Json.JsonException)
        {
            return cause;
        }
    }

    /// <summary>When dataset.path is not a key in the store but names a local file (relative to the job file or the
    /// working directory), copies it to datasets/&lt;file name&gt; and returns that key.</summary>
    internal static async Task<string?> ImportLocalDatasetAsync(IObjectStore store, string path, string jobDirectory, CancellationToken ct)
    {
        try
        {
            if (await store.ExistsAsync(ObjectKey.Validate(path), ct).ConfigureAwait(false)) return null;
        }
        catch (ArgumentException)
        {
            // Not a valid key (an absolute path, say): may still be a local file.
        }
        var candidates = new[] { Path.Combine(jobDirectory, path), Path.GetFullPath(path) };
        var local = candidates.FirstOrDefault(File.Exists);
        if (local is null) return null;
        var name = new string(Path.GetFileName(local).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-').ToArray());
        var key = $"datasets/{name}";
        await using var stream = File.OpenRead(local);
        await store.PutAsync(key, stream, cancellationToken: ct).ConfigureAwait(false);
        return key;
    }
}
