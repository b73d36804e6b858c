using StepML.Cli.Runs;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Models;

/// <summary>A trained model ready to score rows: the job it came from (model type, features, label mapping), the
/// model and its parameters. MODEL on the command line is a run id (its final model in --store) or a .tensor file
/// (its job is --job, or the job.json of the run folder the file sits in: runs/&lt;id&gt;/model/x.tensor).</summary>
internal sealed record TrainedModel(JobSpec Job, IModel Model, float[] Parameters, string Source, string? RunId)
{
    public static async Task<TrainedModel> LoadAsync(string model, IObjectStore store, FileInfo? jobFile, CancellationToken ct)
    {
        if (File.Exists(model))
        {
            var path = Path.GetFullPath(model);
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            // A data file given as MODEL (predict DATA DATA): say what MODEL is before looking for its job.
            if (!bytes.AsSpan().StartsWith("SMLT"u8))
                throw new TensorFormatException(model, "MODEL is not a StepML model file (no \"SMLT\" header): give a run id or a .tensor file such as runs/<id>/model/final.tensor");
            var jobPath = jobFile?.FullName ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(path))!, "job.json");
            if (!File.Exists(jobPath))
                throw new UsageException($"{model}: no job.json beside the run folder ({jobPath}); give the run's job with --job FILE");
            var job = JobSpecParser.Parse(await File.ReadAllTextAsync(jobPath, ct).ConfigureAwait(false), jobPath);
            return Create(job, bytes, path, null);
        }
        if (model.EndsWith(".tensor", StringComparison.Ordinal))
            throw new FileNotFoundException($"model file '{model}' does not exist");
        var runId = ObjectKey.ValidateRunId(model, "MODEL");
        var reader = new RunReader(store);
        var spec = await reader.JobAsync(runId, ct).ConfigureAwait(false);
        var key = RunLayout.FinalModel(runId);
        if (!await store.ExistsAsync(key, ct).ConfigureAwait(false))
            throw new UsageException($"run '{runId}' has no final model yet ({key}): wait for it to finish (`stepml watch {runId}{Commands.Common.StoreHint(store)}`), or pass a round's model file runs/{runId}/model/<round>.tensor");
        return Create(spec, await store.GetAsync(key, ct).ConfigureAwait(false), $"{store.Uri}/{key}", runId);
    }

    private static TrainedModel Create(JobSpec job, byte[] bytes, string source, string? runId)
    {
        if (job.Dataset.Features <= 0)
            throw new UsageException($"{source}: its job has no resolved feature count (dataset.features): use the job.json Prepare wrote under runs/<id>/");
        var model = Core.Models.Models.Create(job.Model, job.Dataset.Features);
        var parameters = TensorCodec.Decode(bytes, source, out var header);
        if (header.ElementCount != model.ParameterCount)
            throw new TensorFormatException(source, $"holds {header.ElementCount} values; a {model.Type} model over {job.Dataset.Features} features has {model.ParameterCount}");
        return new TrainedModel(job, model, parameters, source, runId);
    }

    /// <summary>DATA: a partition file (<c>.part</c>, as Prepare writes them) or a LIBSVM/CSV file read with the run's
    /// label mapping and feature count. A path that is not a local file is read from the store (e.g.
    /// partitions/&lt;digest&gt;/validation.part); <c>validation</c> or <c>test</c> name the run's own partition in its
    /// content-addressed set (runs/&lt;id&gt;/dataset.json names the set).</summary>
    public async Task<Partition> ReadDataAsync(string data, IObjectStore store, string? format, CancellationToken ct)
    {
        if (data is "validation" or "test" && RunId is not null && !File.Exists(data))
        {
            var set = (await RunData.RecordAsync(store, RunId, ct).ConfigureAwait(false)).PartitionSet;
            data = data == "validation" ? RunLayout.SetValidation(set) : RunLayout.SetTest(set);
        }
        byte[] bytes;
        if (File.Exists(data)) bytes = await File.ReadAllBytesAsync(data, ct).ConfigureAwait(false);
        else
        {
            try
            {
                bytes = await store.GetAsync(ObjectKey.Validate(data), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectNotFoundException or ArgumentException)
            {
                throw new FileNotFoundException($"data '{data}' is neither a local file nor a key in {store.Uri}");
            }
        }
        format ??= data.EndsWith(".part", StringComparison.Ordinal) ? "part"
            : data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "libsvm";
        if (format == "part")
        {
            try
            {
                return Partition.Decode(bytes, data);
            }
            catch (PartitionFormatException e)
            {
                // The user's DATA, not a damaged run: bad input.
                var detail = e.Message.StartsWith(data + ": ", StringComparison.Ordinal) ? e.Message[(data.Length + 2)..] : e.Message;
                throw new DatasetFormatException(data, 0, $"{detail} DATA read as a partition (--format part or a .part name) must be one Prepare wrote; for LIBSVM or CSV text give --format libsvm or csv");
            }
        }
        if (format is not ("libsvm" or "csv"))
            throw new UsageException($"--format {format}: use part, libsvm or csv (image files: train with dataset.testPath, or pass the run's test.part)");
        var folder = Path.Combine(Path.GetTempPath(), "stepml-data-" + Guid.NewGuid().ToString("N"));
        try
        {
            // One partition, nothing held out: every row in file order, mapped as the run's Prepare mapped them.
            var options = new PartitionOptions(1, 0, Job.Seed, Job.Dataset.Features, Job.Dataset.Sparse,
                PrepareStep.LabelMappingFor(Job.Model), format == "csv" && Job.Dataset.CsvHeader);
            try
            {
                Partitioner.Run(() => new MemoryStream(bytes, writable: false), data, format == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm, options, folder);
            }
            catch (DatasetFormatException e) when (e.Message.Contains($"dataset.features = {Job.Dataset.Features}:", StringComparison.Ordinal))
            {
                // The reader's fix ("set dataset.features") is for training; a trained model's width is fixed.
                throw new DatasetFormatException(e.FileName, e.LineNumber,
                    $"this row has more features than the {Job.Dataset.Features} the model was trained on ({Source}): score rows with the training data's features (is this file for another model?)");
            }
            return Partition.Decode(await File.ReadAllBytesAsync(Path.Combine(folder, "0.part"), ct).ConfigureAwait(false), data);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
