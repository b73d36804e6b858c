using System.Text;
using System.Text.Json;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Finishes a run's start once its partition set is complete (after the Assemble Map, or at once when Prepare found
/// the set or partitioned images itself): completes the set (test split, then the manifest, written last), resolves
/// the features and classes into job.json, and writes model/0.tensor. The Prepare function runs it for
/// <c>{"commit": state}</c>.
/// </summary>
public static class CommitStep
{
    /// <param name="pending">The run's job and data versions, when Prepare calls this directly; else read from the set.</param>
    public static async Task<RunState> RunAsync(FunctionContext context, RunState state, PendingRun? pending = null)
    {
        var store = context.Store;
        var runId = ObjectKey.ValidateRunId(state.RunId);
        if (pending is null)
        {
            if (state.PartitionSet is not { } set) throw new InvalidInputException("Prepare: 'commit' has no partitionSet");
            pending = await PartitionSets.ReadAsync(store, RunLayout.SetPendingRun(set, runId), ContractJson.Default.PendingRun).ConfigureAwait(false);
        }
        var job = JobSpecParser.Parse(pending.Job);
        var record = pending.Record;
        var digest = record.PartitionSet;
        var format = PrepareStep.ResolveFormat(job.Dataset with { Path = record.Files[0].Key });
        var manifest = await store.ExistsAsync(RunLayout.SetManifest(digest)).ConfigureAwait(false)
            ? await PartitionSets.ReadAsync(store, RunLayout.SetManifest(digest), ContractJson.Default.PartitionSetManifest).ConfigureAwait(false)
            : await CompleteSetAsync(context, job, format, digest,
                await PartitionSets.ReadAsync(store, RunLayout.SetSummary(digest), ContractJson.Default.PartitionSetManifest).ConfigureAwait(false)).ConfigureAwait(false);

        var summary = manifest.ToSummary();
        var shape = await Task.Run(() => ImageData.Shape(store, format, record.Files[0].Key, job.Dataset.Labels)).ConfigureAwait(false);
        var model = ImageData.ResolveModel(job.Model, summary, shape);
        var shards = job.Communication.Shards;
        // Sizes checked before anything of the run is written: parameters (64-bit), shards, a worker's memory.
        var parts = await store.ListAsync(RunLayout.PartitionSet(digest) + "/").ConfigureAwait(false);
        var largest = parts.Where(o => o.Key.EndsWith(".part", StringComparison.Ordinal) && !o.Key.EndsWith("validation.part", StringComparison.Ordinal)
            && !o.Key.EndsWith("test.part", StringComparison.Ordinal)).Select(o => o.Size).DefaultIfEmpty(0).Max();
        SizeLimits.Check(job, model, summary.Features, largest);
        if (manifest.HasTest && ModelTypes.IsClassifier(model.Type) && manifest.TestMaxLabel >= model.Classes)
            throw new JobSpecException("dataset.testPath", $"'{job.Dataset.TestPath}' has label {manifest.TestMaxLabel} but model.classes is {model.Classes}");
        job = job with { Model = model, Dataset = job.Dataset with { Features = summary.Features, Format = format } };
        // The run exists from here on: its job (every default, the features and classes filled in), then its data.
        await store.PutAsync(RunLayout.Job(runId), Encoding.UTF8.GetBytes(JobSpecParser.ToJson(job))).ConfigureAwait(false);
        await PartitionSets.WriteAsync(store, RunLayout.DatasetRecord(runId), record, ContractJson.Default.DatasetRecord).ConfigureAwait(false);

        // Data-dependent initialisation (k-means++) samples partition 0; other models never load a partition here, so
        // Commit's memory is the model's, not a partition's (up to 2 GiB).
        var created = Models.Create(job.Model, summary.Features);
        var initial = new float[created.ParameterCount];
        var firstKey = RunLayout.SetPartition(digest, 0);
        var sample = created.InitializesFromData ? Partition.Decode(await store.GetAsync(firstKey).ConfigureAwait(false), firstKey) : null;
        if (sample is null) created.Initialize(initial, job.Seed);
        else created.Initialize(initial, job.Seed, sample);
        await TensorIo.WriteAsync(store, RunLayout.Model(runId, 0), initial, 0, ShardLayout.For(created.ParameterCount, shards).BlockElements).ConfigureAwait(false);

        var how = state.PartitionSetReused == true ? "reused" : "written";
        return state with { Partitioning = null, Reason = $"{state.Reason}; partitions {how}: {RunLayout.PartitionSet(digest)}" };
    }

    /// <summary>Partitions the test split (in one task, as the training data's format), then writes the manifest
    /// last, so a set is reusable exactly when everything in it is written; then drops the pieces.</summary>
    internal static async Task<PartitionSetManifest> CompleteSetAsync(FunctionContext context, JobSpec job, string format, string digest, PartitionSetManifest summary)
    {
        var store = context.Store;
        var d = job.Dataset;
        float testMaxLabel = float.NaN;
        if (d.TestPath.Length > 0)
        {
            var temp = Directory.CreateTempSubdirectory("stepml-test-");
            try
            {
                var options = new PartitionOptions(1, 0, job.Seed, summary.Features, d.Sparse, PrepareStep.LabelMappingFor(job.Model), d.CsvHeader,
                    MaxClasses: job.Model.Classes > 0 ? job.Model.Classes : null);
                var test = await PrepareStep.PartitionFileAsync(store, format, d.TestPath, d.TestLabels, "dataset.test", options, temp.FullName).ConfigureAwait(false);
                if (test.Features != summary.Features)
                    throw new JobSpecException("dataset.testPath", $"'{d.TestPath}' has {test.Features} features, the training data {summary.Features}");
                testMaxLabel = test.MaxLabel;
                await PrepareStep.UploadAsync(store, Path.Combine(temp.FullName, "0.part"), RunLayout.SetTest(digest)).ConfigureAwait(false);
            }
            finally
            {
                temp.Delete(recursive: true);
            }
        }

        var manifest = summary with { Digest = digest, HasTest = d.TestPath.Length > 0, TestMaxLabel = testMaxLabel };
        await PartitionSets.WriteAsync(store, RunLayout.SetManifest(digest), manifest, ContractJson.Default.PartitionSetManifest).ConfigureAwait(false);
        await PartitionSets.DeleteScratchAsync(store, digest, job.RunId).ConfigureAwait(false);
        return manifest;
    }
}
