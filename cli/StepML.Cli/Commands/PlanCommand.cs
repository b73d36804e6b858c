using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using StepML.Cli.Planning;
using StepML.Cli.Runs;
using StepML.Core.Jobs;
using StepML.Core.Planning;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary><c>stepml plan JOB.json</c>: time and dollars before anything runs, on Lambda over memory sizes and worker
/// counts and on VMs (<see cref="Plan"/>).</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var job = new Argument<FileInfo>("JOB") { Description = "The job spec to plan (its dataset is read once to count rows and features)" };
        var rounds = new Option<int?>("--rounds") { Description = "Rounds to plan for (default: the run's with --from, else stop.maxRounds)" };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON" };
        var output = new Option<FileInfo?>("--out") { Description = "Also write the plan as an HTML page with a time-against-cost chart" };
        var from = new Option<string?>("--from") { Description = "Refit the cloud constants (compute scale, round overhead, cold start) from this finished run's records" };
        var constants = new Option<FileInfo?>("--constants") { Description = "A JSON object overriding cloud constants by name (s3LatencySeconds, roundOverheadSeconds, ...; README \"Planning\")" };
        var store = Common.StoreOption();
        var command = new Command("plan", "Predict a job's time and cost per round and in total on Lambda (memory sizes × worker counts: cheapest, fastest, Pareto front) and on EC2 VMs, from a short local calibration; say whether serverless pays off")
        {
            job, rounds, json, output, from, constants, store,
        };
        command.SetAction(async (parse, ct) =>
        {
            var html = parse.GetValue(output) is { } file ? OutputPaths.File(file.ToString(), "--out", null, parse.GetValue(job)?.FullName) : null;
            var (plan, source) = await PlanAsync(parse.GetValue(job)!, parse.GetValue(rounds), parse.GetValue(from), parse.GetValue(store)!, parse.GetValue(constants), ct).ConfigureAwait(false);
            Console.Write(parse.GetValue(json) ? PlanOutput.Json(plan, source) + Environment.NewLine : PlanOutput.Text(plan, source));
            if (html is not null)
            {
                await File.WriteAllTextAsync(html, PlanOutput.Html(plan, source), ct).ConfigureAwait(false);
                if (!parse.GetValue(json)) Console.WriteLine($"wrote {html}");
            }
            return 0;
        });
        return command;
    }

    public static async Task<(Plan Plan, string RoundsSource)> PlanAsync(FileInfo file, int? rounds, string? fromRun, string storeUri, FileInfo? constantsFile, CancellationToken ct)
    {
        Common.RequireFile(file, "job spec");
        if (rounds is < 1) throw new UsageException($"--rounds {rounds}: plan at least 1 round");
        var spec = JobSpecParser.Parse(await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false), file.Name);
        var objectStore = ObjectStores.Open(storeUri);
        var facts = await DatasetProbe.ReadAsync(spec, file.DirectoryName!, objectStore, ct).ConfigureAwait(false);
        if (facts.ImageShape is { } shape && spec.Model.InputShape.Length == 0) spec = spec with { Model = spec.Model with { InputShape = shape } };
        if (spec.Model.Classes == 0 && facts.Classes > 0) spec = spec with { Model = spec.Model with { Classes = facts.Classes } };
        var trainingRows = Math.Max(1, (long)Math.Round(facts.Rows * (1 - spec.Dataset.ValidationFraction)));
        var calibration = Calibrate(spec, facts.Features, trainingRows / Math.Max(1, spec.Dataset.Partitions), facts.ValuesPerRow);

        var constants = constantsFile is null ? new CloudConstants() : ReadConstants(constantsFile);
        var source = "stop.maxRounds; stop.targetLoss, tolerance or gap may end the run sooner: use --rounds or --from RUN";
        var planned = spec.Stop.MaxRounds;
        if (fromRun is not null)
        {
            var (refit, runRounds) = await RefitAsync(new RunReader(objectStore), ObjectKey.ValidateRunId(fromRun, "--from"), constants, ct).ConfigureAwait(false);
            constants = refit;
            (planned, source) = (runRounds, $"run {fromRun}'s rounds");
        }
        if (rounds is { } r) (planned, source) = (r, "--rounds");
        var input = new PlanInput(spec, trainingRows, facts.Features, facts.Bytes, calibration, planned);
        return (Plan.Make(input, constants, FunctionContext.Memory), source);
    }

    /// <summary>A short calibration: a few seconds at most (16 MB of rows, <see cref="Calibration.MinimumSampleBytes"/>).</summary>
    private static CalibrationResult Calibrate(JobSpec spec, int features, long partitionRows, double valuesPerRow) =>
        Calibration.Measure(spec, features, Math.Max(1, partitionRows), seed: spec.Seed, valuesPerRow: valuesPerRow);

    private static CloudConstants ReadConstants(FileInfo file)
    {
        Common.RequireFile(file, "--constants");
        try
        {
            return JsonSerializer.Deserialize<CloudConstants>(File.ReadAllText(file.FullName), new JsonSerializerOptions
            {
                PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
                UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            }) ?? throw new UsageException($"--constants {file.Name}: the file holds null; write a JSON object such as {{\"s3LatencySeconds\": 0.02}}");
        }
        catch (JsonException e)
        {
            throw new UsageException($"--constants {file.Name}: {(e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? JsonErrorText.Trimmed(e) : JsonErrorText.Describe(e))} (fields: {string.Join(", ", typeof(CloudConstants).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)))})");
        }
    }

    /// <summary>The run's records against this machine's calibration of the run's own job.</summary>
    /// <summary>The run's training partitions' mean non-zeros per row, from its partition set's manifest (0: dense or unknown).</summary>
    private static async Task<double> ValuesPerRowAsync(IObjectStore store, string runId, CancellationToken ct)
    {
        try
        {
            var set = (await RunData.RecordAsync(store, runId, ct).ConfigureAwait(false)).PartitionSet;
            var manifest = JsonSerializer.Deserialize(await store.GetAsync(RunLayout.SetManifest(set), ct).ConfigureAwait(false), ContractJson.Default.PartitionSetManifest);
            if (manifest is null || !manifest.Sparse) return 0;
            long rows = manifest.Rows[..^1].Sum(), values = manifest.Values[..^1].Sum();
            return rows > 0 ? values / (double)rows : 0;
        }
        catch (ObjectNotFoundException)
        {
            return 0;
        }
    }

    internal static async Task<(CloudConstants Constants, int Rounds)> RefitAsync(RunReader reader, string runId, CloudConstants constants, CancellationToken ct)
    {
        if (!await reader.ExistsAsync(runId, ct).ConfigureAwait(false)) throw new UsageException($"--from {runId}: no such run in the store (stepml runs lists them)");
        var job = await reader.JobAsync(runId, ct).ConfigureAwait(false);
        var rounds = await reader.RoundsAsync(runId, ct).ConfigureAwait(false);
        if (rounds.Count == 0) throw new UsageException($"--from {runId}: the run has no finished rounds to refit from");
        var observed = new List<ObservedRound>();
        double previous = 0;
        foreach (var r in rounds)
        {
            var functions = r.Usage?.Functions;
            var merge = functions?.GetValueOrDefault(StepML.Core.Cost.DeployedMemory.Merge);
            observed.Add(new ObservedRound(r.Workers, r.WorkerSeconds, (int)(merge?.Invocations ?? job.Communication.Shards), merge?.Seconds ?? 0,
                functions?.GetValueOrDefault(StepML.Core.Cost.DeployedMemory.Decide)?.Seconds ?? 0, r.ElapsedSeconds - previous));
            previous = r.ElapsedSeconds;
        }
        var workers = Math.Max(1, rounds[^1].Workers);
        var rowsPerWorker = Math.Max(1, rounds[^1].Samples / workers);
        var calibration = Calibrate(job, job.Dataset.Features, rowsPerWorker, await ValuesPerRowAsync(reader.Store, runId, ct).ConfigureAwait(false));
        var model = new CloudModel(new PlanInput(job, rowsPerWorker * workers, job.Dataset.Features, 0, calibration, rounds.Count),
            constants with { ComputeScale = 1 }, FunctionContext.Memory);
        return (Refit.From(constants, observed, model.Compute(job.Workers.MemoryMb, workers), model.WorkerCommunication(workers)), rounds.Count);
    }
}
