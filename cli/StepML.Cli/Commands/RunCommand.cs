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
    private const int MaxJobBytes = 256 * 1024;

    public static Command Create()
    {
        var job = new Argument<FileInfo>("JOB.json") { Description = "The job spec (see README, 'The job spec')" };
        var store = StoreOption();
        var ledger = LedgerOption();
        var concurrency = ConcurrencyOption();
        var quiet = QuietOption();
        var set = new Option<string[]>("--set")
        {
            Description = "Override a job field, FIELD=VALUE with a dotted path (repeatable): --set algorithm.rho=0.05 --set stop.maxRounds=20",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("run", "Train a model: run a job spec through the state machine on the local engine. A dataset.path that names a local file is first copied into the store under datasets/.")
        {
            job, store, ledger, concurrency, quiet, set,
        };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(job)!;
            var result = await RunAsync(file, parse.GetValue(store)!, parse.GetValue(ledger), parse.GetValue(concurrency), parse.GetValue(quiet), parse.GetValue(set) ?? [], ct).ConfigureAwait(false);
            return CliErrors.ExitCode(result);
        });
        return command;
    }

    private static async Task<PipelineResult> RunAsync(FileInfo file, string storeUri, string? ledgerUri, int concurrency, bool quiet, string[] overrides, CancellationToken ct)
    {
        RequireFile(file, "job spec");
        // The spec is the execution input, which Step Functions caps at 256 KiB: refuse it here, naming the file.
        if (file.Length > MaxJobBytes)
            throw new JobSpecException("$", $"{file.Name} is {file.Length:N0} bytes; a job spec is the execution input, limited to {MaxJobBytes / 1024} KiB: keep data in files and name them in dataset.path");
        var text = await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false);
        var spec = JobSpecParser.Parse(text, file.Name);
        var store = ObjectStores.Open(storeUri);
        var ledger = OpenLedger(ledgerUri, store);
        var node = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        if (overrides.Length > 0)
        {
            JobOverrides.Apply(node, overrides);
            spec = JobOverrides.Parse(node, file.Name, overrides);
        }
        Dictionary<string, string> imports;
        try
        {
            imports = await ImportDatasetFilesAsync(store, node, spec, file.DirectoryName!, quiet, ct).ConfigureAwait(false);
        }
        catch (JobSpecException e)
        {
            throw e.InFile(file.Name);
        }
        return await Execute(store, node.ToJsonString(), concurrency, quiet, ct, ledger, imports).ConfigureAwait(false);
    }

    /// <summary>Imports every local file the job's dataset names (IDX images and labels, the test split) into the store and
    /// points the job at the keys; returns store key → local file, for error messages.</summary>
    internal static async Task<Dictionary<string, string>> ImportDatasetFilesAsync(IObjectStore store, JsonObject node, JobSpec spec, string jobDirectory, bool quiet, CancellationToken ct)
    {
        var imports = new Dictionary<string, string>();
        foreach (var (field, path) in new[] { ("path", spec.Dataset.Path), ("labels", spec.Dataset.Labels), ("testPath", spec.Dataset.TestPath), ("testLabels", spec.Dataset.TestLabels) })
        {
            if (path.Length == 0) continue;
            var imported = await ImportLocalDatasetAsync(store, path, jobDirectory, ct, $"dataset.{field}").ConfigureAwait(false);
            if (imported is null) continue;
            node["dataset"]![field] = imported.Key;
            imports[imported.Key] = imported.LocalPath;
            if (!quiet) Console.WriteLine(imported.Describe(path));
        }
        return imports;
    }

    /// <summary>Runs an execution with per-round progress and prints the summary (shared with the demo).</summary>
    /// <param name="imports">Store key → local file, for the local files copied in (errors name both).</param>
    public static async Task<PipelineResult> Execute(IObjectStore store, string input, int concurrency, bool quiet, CancellationToken ct,
        StepML.Storage.Ledger.IRunLedger? ledger = null, IReadOnlyDictionary<string, string>? imports = null)
    {
        // Workers finishing within a round are shown only on a terminal; redirected output keeps one line per round.
        var workers = quiet || Console.IsOutputRedirected ? null : new Progress.WorkerProgress();
        var partitioning = workers is null ? null : new Progress.PartitionProgress();
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions
        {
            Concurrency = concurrency, Ledger = ledger,
            WrapFunctions = workers is null ? null : invoker => partitioning!.Wrap(workers.Wrap(invoker)),
        });
        var clock = Stopwatch.StartNew();
        string? runId = null;
        pipeline.Prepared += s => runId = s.RunId;
        if (!quiet)
        {
            pipeline.Partitioning += s =>
            {
                Console.WriteLine($"run {s.RunId}: partitioning {s.Partitioning!.Ranges.Length} byte range(s) into {s.Partitions.Length} partitions and validation (set {s.PartitionSet})   [{clock.Elapsed.TotalSeconds:F1} s]");
                partitioning?.Planned(s.Partitioning);
            };
            pipeline.Prepared += s =>
            {
                partitioning?.Finished();
                workers?.Prepared(s.Partitions.Length);
                Console.WriteLine($"run {s.RunId}: {s.Partitions.Length} partitions ({(s.PartitionSetReused == true ? "reused" : "written")}: {s.PartitionSet}), {s.Shards.Length} shard(s), store {store.Uri}   [{clock.Elapsed.TotalSeconds:F1} s]"
                    + (s.Reason?.StartsWith("resumed", StringComparison.Ordinal) == true ? $"{Environment.NewLine}  {s.Reason}" : ""));
            };
            if (workers is not null) pipeline.RoundCompleted += s => workers.RoundCompleted(s.Round);
            pipeline.RoundCompleted += s => Console.WriteLine(
                $"round {s.Round - 1,4}  loss {F(s.PreviousLoss ?? double.NaN)}{Validation(s)}{GapText(s.RelativeGap)}{Tolerated(s)}  elapsed {clock.Elapsed.TotalSeconds,6:F1} s{(s.Action == "continue" ? "" : "  -> " + s.Action + ": " + s.Reason)}");
        }
        PipelineResult result;
        try
        {
            result = await pipeline.RunAsync(input, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (runId is not null && e is not OperationCanceledException)
        {
            // A fault outside the state machine's handlers (the store failing while the run's history is written, say).
            throw new RunFaultException(runId, store.Uri, e);
        }
        finally
        {
            partitioning?.Finished();
        }
        if (result.HistoryError is { } historyError)
            Console.Error.WriteLine($"stepml: warning: the history of run {result.RunId} was not written: {historyError.GetType().Name}: {CliErrors.Clip(historyError.Message)}");
        if (result.Succeeded && result.Summary is { } summary)
        {
            Console.WriteLine($"finished {summary.RunId} after {summary.Rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s ({summary.StopReason})");
            Console.WriteLine($"  training   loss {F(summary.TrainLoss)}{MetricText(summary.Metric, summary.TrainMetric, "  ")}");
            Console.WriteLine($"  validation loss {(summary.ValidationLoss is { } vl ? F(vl) : "–")}{MetricText(summary.Metric, summary.ValidationMetric, "  ")}");
            if (summary.TestLoss is { } tl)
                Console.WriteLine($"  test       loss {F(tl)}{MetricText(summary.Metric, summary.TestAccuracy, "  ")}");
            if (summary.RelativeGap is { } relative)
                Console.WriteLine($"  certified: at most {F(relative * 100, "G3")}% above the optimum (duality gap {F(summary.Gap ?? double.NaN, "G3")})");
            if (summary.FailedWorkers > 0)
                Console.WriteLine($"  tolerated  {summary.FailedWorkers} failed worker(s) over the rounds (partitions {string.Join(", ", summary.FailedPartitions ?? [])})"
                    + (summary.UnevaluatedPartitions is { } skipped ? $"; not evaluated at the end: partitions {string.Join(", ", skipped)}" : ""));
            Console.WriteLine($"  model {summary.ModelKey}; report {RunLayout.Report(summary.RunId)}");
            if (summary.Cost is { } cost)
                Console.WriteLine($"  cost ${cost.TotalUsd:F5} at {cost.Region} list prices: Lambda ${cost.LambdaUsd:F5}, S3 ${cost.S3Usd:F5} ({cost.S3Puts:N0} PUT, {cost.S3Gets:N0} GET), "
                    + $"Step Functions ${cost.TransitionsUsd + cost.ExpressUsd:F5} ({cost.Transitions:N0} transitions, {cost.ExpressExecutions:N0} EXPRESS children)"
                    + (cost.Channel == "s3" ? "" : $", {cost.Channel} ${cost.ChannelUsd:F5}"));
        }
        else if (result.Succeeded)
        {
            var reason = result.Output is { } o && JsonNode.Parse(o) is JsonObject skipped ? skipped["reason"]?.GetValue<string>() : null;
            Console.WriteLine($"nothing to train: {reason ?? "the input starts no run"}");
        }
        else
        {
            Console.Error.WriteLine(FailureText(result, store, imports));
        }
        return result;
    }

    /// <summary>What a failed run prints: for bad input one line naming the file and line or the field (and the local
    /// file a store key was imported from); for a fault the run id, the error name and cause, and where things are.</summary>
    internal static string FailureText(PipelineResult result, IObjectStore store, IReadOnlyDictionary<string, string>? imports = null)
    {
        var message = CauseMessage(result.Cause);
        foreach (var (key, local) in imports ?? new Dictionary<string, string>())
            if (message.StartsWith(key + ":", StringComparison.Ordinal))
                message = $"{key} (imported from {local}){message[key.Length..]}";
        message = CliErrors.Clip(message);
        if (CliErrors.IsInputError(result.Error))
            return $"stepml: {message}" + (result.RunId is null ? "" : $"\n  run {result.RunId} stopped before training; details: stepml history {result.RunId}{StoreHint(store)}");
        if (result.RunId is null)
            return $"stepml: the run failed before it was created ({result.Status}): {result.Error}: {message}";
        return $"stepml: run {result.RunId} {result.Status}: {result.Error}: {message}\n"
            + $"  store {store.Uri}: the last good model and the finished rounds are kept under {RunLayout.Root(result.RunId)}/ (failure.json records the error when the store could take it)\n"
            + $"  details: stepml history {result.RunId}{StoreHint(store)}";
    }

    /// <summary>"accuracy 71.20%" or "inertia 3.0412" after a prefix; empty when there is no value.</summary>
    internal static string MetricText(string? metric, double? value, string prefix) => value is not { } v || metric is null
        ? ""
        : metric == "accuracy" ? $"{prefix}accuracy {Percent(v)}" : $"{prefix}{metric} {F(v)}";
    /// <summary>"  workers 7/8, 1 failed (tolerated)" when workers of the round failed within the tolerance; else empty.</summary>
    internal static string Tolerated(RunState s) => s.FailedWorkers is { } failed and > 0
        ? $"  workers {s.Partitions.Length - failed}/{s.Partitions.Length}, {failed} failed (tolerated)"
        : "";

    /// <summary>"  val loss … acc …" for the round just decided (empty without a validation split).</summary>
    internal static string Validation(RunState s) => s.ValidationLoss is { } loss
        ? $"  val loss {F(loss)}" + (s.ValidationMetric is not { } m ? "" : s.MetricName is null or "accuracy" ? $"  acc {Percent(m)}" : $"  {s.MetricName} {F(m, "G6")}")
        : "";

    /// <summary>"  gap ≤ 0.0123%" when the algorithm certified the round's relative gap.</summary>
    internal static string GapText(double? relativeGap) => relativeGap is { } g ? $"  gap ≤ {F(g * 100, "G3")}%" : "";

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
    /// working directory), copies it into the store under datasets/ and returns the key (null: not a local file).
    /// Never replaces a different object: datasets/&lt;name&gt; when that key is free or already holds the same bytes,
    /// else datasets/&lt;stem&gt;-&lt;12 hex digits of the file's SHA-256&gt;&lt;extension&gt;.</summary>
    internal static async Task<DatasetImport?> ImportLocalDatasetAsync(IObjectStore store, string path, string jobDirectory, CancellationToken ct, string field = "dataset.path")
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
        if (local is null && !path.EndsWith('/') && candidates.FirstOrDefault(Directory.Exists) is { } folder)
            throw new JobSpecException(field, $"'{path}' is a local folder ({folder}): name the data file in it; stepml run copies a file into the store, not a folder (a store prefix ends in '/')");
        if (local is null) return null;
        var name = new string(Path.GetFileName(local).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-').ToArray());
        var key = $"datasets/{name}";
        if (!await store.ExistsAsync(key, ct).ConfigureAwait(false))
            return await CopyAsync(store, local, key, ct).ConfigureAwait(false);
        if (await DatasetIdentity.SameBytesAsync(store, key, local, ct).ConfigureAwait(false))
            return new DatasetImport(local, key, Copied: false, Note: "already in the store with the same bytes");
        var digest = await DatasetIdentity.ShortDigestAsync(local, ct).ConfigureAwait(false);
        var stem = Path.GetFileNameWithoutExtension(name);
        var extension = Path.GetExtension(name);
        var versioned = $"datasets/{stem}-{digest}{extension}";
        var note = $"{key} in the store holds different data, so it was left alone";
        if (!await store.ExistsAsync(versioned, ct).ConfigureAwait(false))
            return await CopyAsync(store, local, versioned, ct, note).ConfigureAwait(false);
        if (await DatasetIdentity.SameBytesAsync(store, versioned, local, ct).ConfigureAwait(false))
            return new DatasetImport(local, versioned, Copied: false, Note: note + "; the same bytes were imported before");
        throw new UsageException($"cannot import {local}: both {key} and {versioned} in {store.Uri} hold other data; rename the file or upload it under a key of your choice");
    }

    private static async Task<DatasetImport> CopyAsync(IObjectStore store, string local, string key, CancellationToken ct, string? note = null)
    {
        await using var stream = File.OpenRead(local);
        await store.PutAsync(key, stream, cancellationToken: ct).ConfigureAwait(false);
        return new DatasetImport(local, key, Copied: true, note);
    }
}

/// <summary>A local file copied into the store (or found there already, byte for byte).</summary>
internal sealed record DatasetImport(string LocalPath, string Key, bool Copied, string? Note = null)
{
    public string Describe(string asWritten) =>
        (Copied ? $"copied {asWritten} into the store as {Key}" : $"using {Key} for {asWritten}") + (Note is null ? "" : $" ({Note})");
}

/// <summary>A run failed outside its handlers (the engine or the store around it); the message names the run.</summary>
internal sealed class RunFaultException(string runId, string store, Exception inner)
    : Exception($"run {runId} in {store} failed: {inner.GetType().Name}: {inner.Message}. The last good model and finished rounds stay in the store", inner)
{
    public string RunId { get; } = runId;
}
