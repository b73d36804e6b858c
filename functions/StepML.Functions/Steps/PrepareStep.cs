using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Communication;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Validates the job, partitions the dataset into runs/&lt;runId&gt;/partitions, writes job.json (with every default
/// and the discovered feature count filled in) and model/0.tensor, and returns the loop's first state.
/// Accepts a job spec, <c>{"jobKey": "jobs/x.json"}</c>, an EventBridge S3 "Object Created" event, or
/// <c>{"resume": state}</c> from the previous execution of a run that continued as new.
/// </summary>
public static class PrepareStep
{
    public static async Task<RunState> RunAsync(FunctionContext context, JsonNode input)
    {
        if (input is not JsonObject obj)
            throw new InvalidInputException("Prepare: the input must be a JSON object: a job spec, {\"jobKey\": ...}, an S3 event or {\"resume\": ...}");
        if (obj["resume"] is JsonObject resume)
            return await ResumeAsync(context, resume).ConfigureAwait(false);

        var (job, source) = await ResolveJobAsync(context, obj).ConfigureAwait(false);
        if (job is null)
            return new RunState { Skip = true, Reason = $"'{source}' is a sidecar job file; it is used when its dataset is uploaded" };
        return await StartRunAsync(context, job, source).ConfigureAwait(false);
    }

    private static async Task<RunState> ResumeAsync(FunctionContext context, JsonObject resume)
    {
        RunState state;
        try
        {
            state = resume.Deserialize(ContractJson.Default.RunState)
                ?? throw new InvalidInputException("Prepare: 'resume' is null");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Prepare: 'resume' is not a run state: {e.Message}", e);
        }
        await context.Cache.JobAsync(state.RunId).ConfigureAwait(false);
        return state with { RoundsThisExecution = 0, Action = null, Reason = null, Workers = null, Merged = null };
    }

    /// <returns>The job and a description of where it came from; a null job means "nothing to train".</returns>
    private static async Task<(JobSpec? Job, string Source)> ResolveJobAsync(FunctionContext context, JsonObject obj)
    {
        if (obj["detail"] is JsonObject detail)
        {
            var key = StringField((detail["object"] as JsonObject)?["key"], "detail.object.key");
            if (key.Contains('%')) key = Uri.UnescapeDataString(key);
            ObjectKey.Validate(key, "detail.object.key");
            if (key.StartsWith("jobs/", StringComparison.Ordinal))
                return (await ReadJobAsync(context, key).ConfigureAwait(false), key);
            if (key.StartsWith("datasets/", StringComparison.Ordinal))
            {
                if (key.EndsWith(".job.json", StringComparison.Ordinal)) return (null, key);
                var sidecar = key + ".job.json";
                if (await context.Store.ExistsAsync(sidecar).ConfigureAwait(false))
                    return (await ReadJobAsync(context, sidecar).ConfigureAwait(false), sidecar);
                return (DefaultJobFor(key), key + " (default job)");
            }
            throw new InvalidInputException($"Prepare: uploads under 'jobs/' or 'datasets/' start runs; '{key}' is neither");
        }
        if (obj["jobKey"] is JsonNode jobKey)
        {
            var key = ObjectKey.Validate(StringField(jobKey, "jobKey"), "jobKey");
            return (await ReadJobAsync(context, key).ConfigureAwait(false), key);
        }
        return (JobSpecParser.Parse(obj.ToJsonString()), "execution input");
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
        try
        {
            return JobSpecParser.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (JobSpecException e)
        {
            throw new JobSpecException(e.Field, $"in '{key}': {e.Message}");
        }
    }

    /// <summary>The job for a dataset uploaded without a sidecar: defaults, named after the file.</summary>
    internal static JobSpec DefaultJobFor(string datasetKey)
    {
        var stem = Path.GetFileNameWithoutExtension(datasetKey);
        var name = new string(stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray()).Trim('-');
        if (name.Length == 0 || !char.IsAsciiLetterOrDigit(name[0])) name = "dataset";
        return new JobSpec { Name = name.Length > 48 ? name[..48] : name, Dataset = new DatasetSpec { Path = datasetKey } };
    }

    private static async Task<RunState> StartRunAsync(FunctionContext context, JobSpec job, string source)
    {
        var store = context.Store;
        var datasetKey = ObjectKey.Validate(job.Dataset.Path, "dataset.path");
        var format = ResolveFormat(job.Dataset);
        if (!await store.ExistsAsync(datasetKey).ConfigureAwait(false))
            throw new JobSpecException("dataset.path", $"no object '{datasetKey}' in {store.Uri}: upload the dataset there or fix the path");

        var now = context.Time.GetUtcNow();
        // The suffix is 21 characters; cut the name so a generated id stays within the spec's 64 (job.json is re-parsed
        // by every later step).
        var runId = job.RunId ?? $"{job.Name[..Math.Min(job.Name.Length, 43)]}-{now:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        ObjectKey.ValidateRunId(runId);

        if (await store.ExistsAsync(RunLayout.Job(runId)).ConfigureAwait(false) && job.RunId is not null)
        {
            // A retried Prepare (same spec) may redo its work; a different job may not reuse the run's objects.
            var existing = JobSpecParser.Parse(Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Job(runId)).ConfigureAwait(false)));
            var sameWeights = existing.Dataset.PartitionWeights is null == job.Dataset.PartitionWeights is null
                && (job.Dataset.PartitionWeights is null || existing.Dataset.PartitionWeights!.SequenceEqual(job.Dataset.PartitionWeights));
            if (!sameWeights || existing with
                {
                    Dataset = existing.Dataset with { Features = job.Dataset.Features, Format = job.Dataset.Format, PartitionWeights = job.Dataset.PartitionWeights },
                    Model = existing.Model with { Classes = job.Model.Classes, InputShape = job.Model.InputShape },
                } != job)
                throw new RunExistsException(runId, store.Uri);
        }

        var shape = await Task.Run(() => ImageData.Shape(store, format, datasetKey, job.Dataset.Labels)).ConfigureAwait(false);
        var shards = job.Communication.Shards;
        // Checked between partitioning (which discovers the feature count) and the upload, so a bad job leaves nothing behind.
        var (summary, sample) = await PartitionAsync(context, job, datasetKey, format, runId, s =>
        {
            var parameters = Models.Create(ImageData.ResolveModel(job.Model, s, shape), s.Features).ParameterCount;
            if (shards > parameters)
                throw new JobSpecException("communication.shards", $"{shards} shards for a model of {parameters} parameters: use at most {parameters}");
        }).ConfigureAwait(false);
        job = job with { Model = ImageData.ResolveModel(job.Model, summary, shape) };
        if (job.Dataset.TestPath.Length > 0)
            await PartitionTestAsync(context, job, format, summary.Features, runId).ConfigureAwait(false);
        var model = Models.Create(job.Model, summary.Features);
        var resolved = job with { RunId = runId, Dataset = job.Dataset with { Features = summary.Features, Format = format } };
        var jobJson = JobSpecParser.ToJson(resolved);
        await store.PutAsync(RunLayout.Job(runId), Encoding.UTF8.GetBytes(jobJson)).ConfigureAwait(false);

        var initial = new float[model.ParameterCount];
        model.Initialize(initial, job.Seed, sample);
        var layout = ShardLayout.For(model.ParameterCount, shards);
        await TensorIo.WriteAsync(store, RunLayout.Model(runId, 0), initial, 0, layout.BlockElements).ConfigureAwait(false);

        return new RunState
        {
            RunId = runId,
            Round = 0,
            Partitions = Enumerable.Range(0, job.Dataset.Partitions).ToArray(),
            Shards = Enumerable.Range(0, shards).ToArray(),
            MaxConcurrency = job.Workers.MaxConcurrency > 0 ? job.Workers.MaxConcurrency : context.Settings.MaxConcurrency,
            ToleratedFailurePercentage = job.Workers.ToleratedFailurePercentage ?? context.Settings.ToleratedFailurePercentage,
            StartedAtMs = now.ToUnixTimeMilliseconds(),
            RoundsPerExecution = StopRules.RoundsPerExecution(job),
            Tree = TreeLevelsFor(job),
            Reason = $"job from {source}",
        };
    }

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

    /// <returns>The summary, and partition 0 decoded from the local copy (data-dependent initialisation such as
    /// k-means++ samples it; reading it back from the store would cost a whole-partition GET).</returns>
    private static async Task<(PartitionSummary Summary, Partition First)> PartitionAsync(FunctionContext context, JobSpec job, string datasetKey, string format, string runId, Action<PartitionSummary> check)
    {
        var store = context.Store;
        var temp = Directory.CreateTempSubdirectory("stepml-partitions-");
        try
        {
            var options = new PartitionOptions(job.Dataset.Partitions, job.Dataset.ValidationFraction, job.Seed,
                job.Dataset.Features > 0 ? job.Dataset.Features : null, job.Dataset.Sparse, LabelMappingFor(job.Model), job.Dataset.CsvHeader,
                job.Dataset.PartitionWeights);
            var summary = await PartitionFileAsync(store, format, datasetKey, job.Dataset.Labels, "dataset", options, temp.FullName).ConfigureAwait(false);
            check(summary);
            for (var p = 0; p < job.Dataset.Partitions; p++)
                await UploadAsync(store, Path.Combine(temp.FullName, $"{p}.part"), RunLayout.Partition(runId, p)).ConfigureAwait(false);
            await UploadAsync(store, Path.Combine(temp.FullName, "validation.part"), RunLayout.Validation(runId)).ConfigureAwait(false);
            var first = Path.Combine(temp.FullName, "0.part");
            return (summary, Partition.Decode(await File.ReadAllBytesAsync(first).ConfigureAwait(false), RunLayout.Partition(runId, 0)));
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>Partitions one dataset file (images through their readers, text through the LIBSVM/CSV readers) into a
    /// local folder, off the calling thread.</summary>
    private static Task<PartitionSummary> PartitionFileAsync(IObjectStore store, string format, string key, string labelsKey, string field,
        PartitionOptions options, string folder) =>
        Task.Run(() => ImageData.IsImageFormat(format)
            ? ImageData.Partition(store, format, key, labelsKey, field, options, folder)
            : Partitioner.Run(
                () => store.OpenReadAsync(key).GetAwaiter().GetResult(),
                key, format == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm, options, folder));

    /// <summary>Binary models (logistic, SVM) read labels as {0, 1} (from 0/1 or −1/+1); softmax, MLP and CNN read
    /// class ids 0..K−1; KMeans ignores labels, so any value is kept (e.g. the true cluster id of synthetic data).</summary>
    public static LabelMapping LabelMappingFor(ModelSpec model) =>
        model.Type == ModelTypes.KMeans || ModelTypes.IsClassifier(model.Type) ? LabelMapping.Raw : LabelMapping.Binary;

    /// <summary>The test split goes through the same partitioner as one partition without validation rows.</summary>
    private static async Task PartitionTestAsync(FunctionContext context, JobSpec job, string format, int features, string runId)
    {
        var store = context.Store;
        var testKey = ObjectKey.Validate(job.Dataset.TestPath, "dataset.testPath");
        if (!await store.ExistsAsync(testKey).ConfigureAwait(false))
            throw new JobSpecException("dataset.testPath", $"no object '{testKey}' in {store.Uri}: upload the test split there or fix the path");
        var temp = Directory.CreateTempSubdirectory("stepml-test-");
        try
        {
            var options = new PartitionOptions(1, 0, job.Seed, features, job.Dataset.Sparse, LabelMappingFor(job.Model), job.Dataset.CsvHeader);
            var summary = await PartitionFileAsync(store, format, testKey, job.Dataset.TestLabels, "dataset.test", options, temp.FullName).ConfigureAwait(false);
            if (summary.Features != features)
                throw new JobSpecException("dataset.testPath", $"'{testKey}' has {summary.Features} features, the training data {features}");
            if (ModelTypes.IsClassifier(job.Model.Type) && summary.MaxLabel >= job.Model.Classes)
                throw new JobSpecException("dataset.testPath", $"'{testKey}' has label {summary.MaxLabel} but model.classes is {job.Model.Classes}");
            await UploadAsync(store, Path.Combine(temp.FullName, "0.part"), RunLayout.Test(runId)).ConfigureAwait(false);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static async Task UploadAsync(IObjectStore store, string path, string key)
    {
        await using var file = File.OpenRead(path);
        await store.PutAsync(key, file).ConfigureAwait(false);
    }
}

/// <summary>A run with this id already exists with a different job; its objects are left untouched.</summary>
public sealed class RunExistsException(string runId, string store)
    : Exception($"run '{runId}' already exists in {store} with a different job: choose another runId (or omit it to generate one)");
