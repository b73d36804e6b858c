using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Communication;
using StepML.Core.Cost;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Validates the job, records the versions of its data (runs/&lt;runId&gt;/dataset.json) and the content-addressed
/// partition set they map to, and either reuses a complete set (then finishes the run's start at once, see
/// <see cref="CommitStep"/>), partitions images in-process, or plans byte ranges for the Partition Map and returns
/// them in <see cref="RunState.Partitioning"/>.
/// Accepts a job spec, <c>{"jobKey": "jobs/x.json"}</c>, an EventBridge S3 "Object Created" event, or
/// <c>{"resume": state}</c> from the previous execution of a run that continued as new.
/// </summary>
public static class PrepareStep
{
    public static async Task<RunState> RunAsync(FunctionContext context, JsonNode input)
    {
        var started = context.Time.GetTimestamp();
        var (state, partitioning) = await RunStepAsync(context, input).ConfigureAwait(false);
        if (state.Skip == true) return state;
        // Prepare bills its own invocation, and the states each execution starts with (or, as Commit, the
        // partitioning Maps it closes: their tasks' durations are not returned to the state, so only their
        // invocations, transitions and EXPRESS minimums are counted).
        var seconds = context.Time.GetElapsedTime(started).TotalSeconds;
        var usage = ResourceUsage.Function(DeployedMemory.Prepare, 1, seconds, FunctionContext.Memory[DeployedMemory.Prepare]);
        usage = partitioning is { } p
            ? usage.Plus(ResourceUsage.Function(DeployedMemory.Partition, p.Ranges.Length + 1 + p.Outputs.Length, 0, FunctionContext.Memory[DeployedMemory.Partition])) with
            {
                Transitions = RoundUsage.PartitioningTransitions(p.Ranges.Length, p.Outputs.Length),
                ExpressExecutions = p.Ranges.Length,
                ExpressGbSeconds = p.Ranges.Length * Pricing.ExpressGbSeconds(0),
            }
            : usage with { Transitions = RoundUsage.StartTransitions };
        return state with { Usage = (state.Usage ?? ResourceUsage.None).Plus(usage) };
    }

    private static async Task<(RunState State, PartitioningState? Partitioning)> RunStepAsync(FunctionContext context, JsonNode input)
    {
        var (unwrapped, owner) = RunClaims.Unwrap(input);
        if (unwrapped is not JsonObject obj)
            throw new InvalidInputException("Prepare: the input must be a JSON object: a job spec, {\"jobKey\": ...}, an S3 event or {\"resume\": ...}");
        if (obj["resume"] is JsonObject resume)
            return (await ResumeRun.RunAsync(context, resume, owner).ConfigureAwait(false), null);
        if (obj["commit"] is JsonObject commit)
        {
            var committing = commit.Deserialize(ContractJson.Default.RunState) ?? throw new InvalidInputException("Prepare: 'commit' is null");
            return (await CommitStep.RunAsync(context, committing).ConfigureAwait(false), committing.Partitioning);
        }

        var (job, source, skip) = await ResolveJobAsync(context, obj, owner).ConfigureAwait(false);
        if (job is null)
            return (new RunState { Skip = true, Reason = skip }, null);
        return (await StartRunAsync(context, job, source, owner).ConfigureAwait(false), null);
    }

    /// <returns>The job and a description of where it came from; a null job means "nothing to train", and why.</returns>
    private static async Task<(JobSpec? Job, string Source, string? Skip)> ResolveJobAsync(FunctionContext context, JsonObject obj, string owner)
    {
        if (obj["detail"] is JsonObject detail)
        {
            var key = StringField((detail["object"] as JsonObject)?["key"], "detail.object.key");
            if (key.Contains('%')) key = Uri.UnescapeDataString(key);
            ObjectKey.Validate(key, "detail.object.key");
            string jobKey;
            if (key.StartsWith("jobs/", StringComparison.Ordinal))
                jobKey = key;
            else if (key.StartsWith("datasets/", StringComparison.Ordinal))
            {
                if (key.EndsWith(".job.json", StringComparison.Ordinal))
                    return (null, key, $"'{key}' is a sidecar job file; it is used when its dataset is uploaded after it");
                jobKey = key + ".job.json";
                // One upload, one run: a dataset starts a run only through its sidecar job; the README's flow (the
                // dataset, then a job under jobs/) starts exactly one, from the job.
                if (!await context.Store.ExistsAsync(jobKey).ConfigureAwait(false))
                    return (null, key, $"'{key}' has no sidecar job '{jobKey}', so it starts no run: upload a job to jobs/<name>.json with dataset.path \"{key}\" (or upload the sidecar before the dataset)");
            }
            else
                throw new InvalidInputException($"Prepare: uploads under 'jobs/' or 'datasets/' start runs; '{key}' is neither");
            if (await RunClaims.ClaimEventAsync(context, RunClaims.EventIdentity(obj, detail, key), key, owner).ConfigureAwait(false) is { } duplicate)
                return (null, key, duplicate);
            return (await ReadJobAsync(context, jobKey).ConfigureAwait(false), jobKey, null);
        }
        if (obj["jobKey"] is JsonNode jobKeyNode)
        {
            var key = ObjectKey.Validate(StringField(jobKeyNode, "jobKey"), "jobKey");
            return (await ReadJobAsync(context, key).ConfigureAwait(false), key, null);
        }
        return (JobSpecParser.Parse(obj.ToJsonString()), "execution input", null);
    }

    private static string StringField(JsonNode? node, string field) => node switch
    {
        null => throw new InvalidInputException($"Prepare: the input has no {field}"),
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        _ => throw new InvalidInputException($"Prepare: {field} must be a string (an object key such as \"jobs/x.json\"), not {node.GetValueKind()}"),
    };

    private static async Task<JobSpec> ReadJobAsync(FunctionContext context, string key)
    {
        var bytes = await context.Store.GetAsync(key).ConfigureAwait(false);
        return JobSpecParser.Parse(Encoding.UTF8.GetString(bytes), key);
    }

    internal static async Task<RunState> StartRunAsync(FunctionContext context, JobSpec job, string source, string owner)
    {
        var store = context.Store;
        try
        {
            // A channel without an endpoint here or in the deployment fails now, naming the field, rather than in
            // every worker of round 0 after the data is partitioned.
            StepML.Storage.Channels.ChannelFactory.Resolve(job.Communication, context.Settings.Channels);
        }
        catch (StepML.Storage.Channels.ChannelConfigurationException e)
        {
            throw new JobSpecException("communication.endpoint", e.Message);
        }
        var files = await PartitionSets.ListAsync(store, job.Dataset.Path, "dataset.path").ConfigureAwait(false);
        var format = ResolveFormat(job.Dataset.Path.EndsWith('/') ? job.Dataset with { Path = files[0].Key } : job.Dataset);
        var image = ImageData.IsImageFormat(format);
        // Only IDX keeps its labels in a separate file: anywhere else the field would be silently ignored.
        foreach (var (field, value) in new[] { ("dataset.labels", job.Dataset.Labels), ("dataset.testLabels", job.Dataset.TestLabels) })
            if (value.Length > 0 && format != "idx")
                throw new JobSpecException(field, $"'{value}': a separate labels file is for IDX images; {format} data carries its labels in its rows, so leave {field} out");
        if (image && files.Length > 1)
            throw new JobSpecException("dataset.path", $"'{job.Dataset.Path}' holds {files.Length} objects: image datasets ({format}) are one file; name it");
        var record = await DatasetRecordAsync(store, job, format, files).ConfigureAwait(false);

        var now = context.Time.GetUtcNow();
        // The suffix is 21 characters; cut the name so a generated id stays within the spec's 64 (job.json is re-parsed
        // by every later step).
        var runId = job.RunId ?? $"{job.Name[..Math.Min(job.Name.Length, 43)]}-{now:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        ObjectKey.ValidateRunId(runId);
        if (job.RunId is not null)
            await RunIdentity.CheckAsync(store, runId, job, record).ConfigureAwait(false);

        if (job.Communication.IsAsync && !context.Channel(job).SupportsRegisters)
            throw new JobSpecException("communication.synchronization", new Storage.Channels.AtomicUpdatesNotSupportedException(context.Channel(job).Name).Message);
        // The claim comes before the first write of the run: a second execution on this run id stops here.
        await RunClaims.ClaimNewRunAsync(context, runId, owner).ConfigureAwait(false);
        // An earlier attempt on this run id that Prepare refused (a mistake in the job, since fixed) left its
        // failure.json; this run is not that failure.
        await RecordFailureStep.ArchiveAsync(context, runId).ConfigureAwait(false);
        var pending = new PendingRun(JobSpecParser.ToJson(job with { RunId = runId, Dataset = job.Dataset with { Format = format } }), record);
        // When the job states the features (and classes), the model's size is checked before reading any data.
        if (job.Dataset.Features > 0 && (job.Model.Classes > 0 || !ModelTypes.IsClassifier(job.Model.Type)) && (!ModelTypes.IsImageNetwork(job.Model.Type) || job.Model.InputShape.Length > 0))
            SizeLimits.CheckModel(job, job.Model, job.Dataset.Features);

        var shards = job.Communication.Shards;
        var state = FirstState(context, job, runId, now.ToUnixTimeMilliseconds(), $"job from {source}") with { Owner = owner, PartitionSet = record.PartitionSet };
        var digest = record.PartitionSet;
        if (await store.ExistsAsync(RunLayout.SetManifest(digest)).ConfigureAwait(false))
            return await CommitStep.RunAsync(context, state with { PartitionSetReused = true }, pending).ConfigureAwait(false);
        if (image)
        {
            var summary = await PartitionImagesAsync(context, job, files[0].Key, format, digest).ConfigureAwait(false);
            await CommitStep.CompleteSetAsync(context, job, format, digest, new PartitionSetManifest
            {
                Features = summary.Features, Rows = [.. summary.RowsPerPartition, summary.ValidationRows], MaxLabel = summary.MaxLabel, Sparse = job.Dataset.Sparse,
            }).ConfigureAwait(false);
            return await CommitStep.RunAsync(context, state with { PartitionSetReused = false }, pending).ConfigureAwait(false);
        }

        await PartitionSets.SniffAsync(store, files, format == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm).ConfigureAwait(false);
        var rangeBytes = context.Settings.PartitionRangeBytes;
        var plan = new PartitionPlan
        {
            Files = files.Select(f => new DatasetFile(f.Key, f.Size)).ToArray(),
            RangeBytes = rangeBytes,
            Format = format,
            CsvHeader = job.Dataset.CsvHeader,
            Partitions = job.Dataset.Partitions,
            ValidationFraction = job.Dataset.ValidationFraction,
            Seed = job.Seed,
            PartitionWeights = job.Dataset.PartitionWeights,
            Features = job.Dataset.Features > 0 ? job.Dataset.Features : null,
            Sparse = job.Dataset.Sparse,
            Labels = LabelMappingFor(job.Model),
            MaxClasses = MaxClassesFor(job.Model),
        };
        plan = plan with { RangeCount = RangePlan.Count(plan.Files, rangeBytes) };
        await PartitionSets.WriteAsync(store, RunLayout.SetPlan(digest), plan, ContractJson.Default.PartitionPlan).ConfigureAwait(false);
        await PartitionSets.WriteAsync(store, RunLayout.SetPendingRun(digest, runId), pending, ContractJson.Default.PendingRun).ConfigureAwait(false);
        return state with
        {
            PartitionSetReused = false,
            Partitioning = new PartitioningState(digest, Enumerable.Range(0, plan.RangeCount).ToArray(), Enumerable.Range(0, plan.Partitions + 1).ToArray()),
        };
    }

    private static async Task<DatasetRecord> DatasetRecordAsync(IObjectStore store, JobSpec job, string format, ObjectVersion[] files)
    {
        var d = job.Dataset;
        ObjectVersion? labels = format == "idx" && d.Labels.Length > 0
            ? await PartitionSets.VersionAsync(store, ObjectKey.Validate(d.Labels, "dataset.labels"), "dataset.labels", "the IDX labels file").ConfigureAwait(false)
            : null;
        var test = d.TestPath.Length > 0
            ? [await PartitionSets.VersionAsync(store, ObjectKey.Validate(d.TestPath, "dataset.testPath"), "dataset.testPath", "the test split").ConfigureAwait(false)]
            : Array.Empty<ObjectVersion>();
        ObjectVersion? testLabels = format == "idx" && d.TestLabels.Length > 0
            ? await PartitionSets.VersionAsync(store, ObjectKey.Validate(d.TestLabels, "dataset.testLabels"), "dataset.testLabels", "the IDX test labels file").ConfigureAwait(false)
            : null;
        var record = new DatasetRecord { Files = files, Labels = labels, Test = test, TestLabels = testLabels };
        return record with { PartitionSet = PartitionSets.Digest(job, format, LabelMappingFor(job.Model), record) };
    }

    /// <summary>The state round 0 starts from (a resume of a run without records starts from it too).</summary>
    internal static RunState FirstState(FunctionContext context, JobSpec job, string runId, long startedAtMs, string reason) => new()
    {
        RunId = runId,
        Round = 0,
        Partitions = Enumerable.Range(0, job.Dataset.Partitions).ToArray(),
        Shards = Enumerable.Range(0, job.Communication.Shards).ToArray(),
        MaxConcurrency = job.Workers.MaxConcurrency > 0 ? job.Workers.MaxConcurrency : context.Settings.MaxConcurrency,
        ToleratedFailurePercentage = job.Workers.ToleratedFailurePercentage ?? context.Settings.ToleratedFailurePercentage,
        StartedAtMs = startedAtMs,
        RoundsPerExecution = StopRules.RoundsPerExecution(job),
        Tree = TreeLevelsFor(job),
        Async = job.Communication.IsAsync ? true : null,
        Reason = reason,
    };

    private static TreeLevels? TreeLevelsFor(JobSpec job)
    {
        if (job.Communication.Pattern != Patterns.Tree) return null;
        var levels = TreePlan.Levels(job.Dataset.Partitions, job.Communication.FanIn);
        return new TreeLevels { Levels = levels, Last = levels.Length - 1 };
    }

    internal static string ResolveFormat(DatasetSpec dataset)
    {
        if (dataset.Format.Length > 0) return dataset.Format;
        var path = dataset.Path.ToLowerInvariant();
        if (path.Contains("-ubyte", StringComparison.Ordinal)) return "idx";
        if (path.EndsWith(".bin", StringComparison.Ordinal)) return "cifar";
        if (path.EndsWith(".csv", StringComparison.Ordinal)) return "csv";
        if (path.EndsWith(".libsvm", StringComparison.Ordinal) || path.EndsWith(".svm", StringComparison.Ordinal) || path.EndsWith(".txt", StringComparison.Ordinal))
            return "libsvm";
        throw new JobSpecException("dataset.format", $"cannot tell the format of '{dataset.Path}' from its extension: set dataset.format to \"libsvm\", \"csv\", \"idx\" or \"cifar\"");
    }

    /// <summary>Image datasets (IDX, CIFAR-10) stay one task: their records are fixed-size binary, read in one
    /// stream through the readers, into the content-addressed set.</summary>
    private static async Task<PartitionSummary> PartitionImagesAsync(FunctionContext context, JobSpec job, string datasetKey, string format, string digest)
    {
        var store = context.Store;
        var temp = Directory.CreateTempSubdirectory("stepml-partitions-");
        try
        {
            var options = new PartitionOptions(job.Dataset.Partitions, job.Dataset.ValidationFraction, job.Seed,
                job.Dataset.Features > 0 ? job.Dataset.Features : null, job.Dataset.Sparse, LabelMappingFor(job.Model), job.Dataset.CsvHeader,
                job.Dataset.PartitionWeights, MaxClassesFor(job.Model));
            var summary = await PartitionFileAsync(store, format, datasetKey, job.Dataset.Labels, "dataset", options, temp.FullName).ConfigureAwait(false);
            for (var p = 0; p < job.Dataset.Partitions; p++)
                await UploadAsync(store, Path.Combine(temp.FullName, $"{p}.part"), RunLayout.SetPartition(digest, p)).ConfigureAwait(false);
            await UploadAsync(store, Path.Combine(temp.FullName, "validation.part"), RunLayout.SetValidation(digest)).ConfigureAwait(false);
            return summary;
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>Partitions one dataset file (images through their readers, text through the LIBSVM/CSV readers) into a
    /// local folder, off the calling thread.</summary>
    internal static Task<PartitionSummary> PartitionFileAsync(IObjectStore store, string format, string key, string labelsKey, string field,
        PartitionOptions options, string folder) =>
        Task.Run(() => ImageData.IsImageFormat(format)
            ? ImageData.Partition(store, format, key, labelsKey, field, options, folder)
            : Partitioner.Run(
                () => store.OpenReadAsync(key).GetAwaiter().GetResult(),
                key, format == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm, options, folder));

    /// <summary>Binary models (logistic, SVM) read labels as {0, 1} (from 0/1 or −1/+1); softmax, MLP and CNN read
    /// class ids 0..K−1; KMeans ignores labels, so any value is kept (e.g. the true cluster id of synthetic data).</summary>
    public static LabelMapping LabelMappingFor(ModelSpec model) =>
        ModelTypes.IsClassifier(model.Type) ? LabelMapping.Classes : model.Type == ModelTypes.KMeans ? LabelMapping.Raw : LabelMapping.Binary;

    /// <summary>K for the class-id check: model.classes when set, else the bound (labels then decide K).</summary>
    private static int? MaxClassesFor(ModelSpec model) => model.Classes > 0 ? model.Classes : null;

    internal static async Task UploadAsync(IObjectStore store, string path, string key)
    {
        await using var file = File.OpenRead(path);
        await store.PutAsync(key, file).ConfigureAwait(false);
    }
}

/// <summary>A run with this id already exists with a different job or on other data; its objects are left untouched.</summary>
public sealed class RunExistsException(string runId, string store, string? difference = null)
    : Exception($"run '{runId}' already exists in {store} with a different job{(difference is null ? "" : $" ({difference})")}: choose another runId (or omit it to generate one)");
