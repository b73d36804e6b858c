using System.Text.Json.Nodes;
using StepML.Cli.Tests.Pipeline;
using StepML.Core.Planning;
using StepML.Storage;

namespace StepML.Cli.Tests.Commands;

[Collection(nameof(ConsoleCollection))]
public sealed class PlanCommandTests(PipelineFixture data) : IClassFixture<PipelineFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string JobFile(string model = "logistic", int partitions = 4)
    {
        File.Copy(data.DatasetFile, Path.Combine(_dir, "d.libsvm"), overwrite: true);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, $$"""
            { "name": "plan", "runId": "plan-run", "dataset": { "path": "d.libsvm", "partitions": {{partitions}} },
              "model": { "type": "{{model}}" }, "algorithm": { "type": "admm", "localEpochs": 2 }, "stop": { "maxRounds": 6, "tolerance": 0 } }
            """);
        return job;
    }

    [Fact]
    public async Task Plan_Help_NamesEveryOption()
    {
        var (code, output, _) = await Cli.RunAsync("plan", "--help");

        Assert.Equal(0, code);
        foreach (var option in new[] { "--rounds", "--json", "--out", "--from", "--constants" })
            Assert.Contains(option, output);
    }

    [Fact]
    public async Task Plan_AsyncJob_SaysARowIsOneUpdate()
    {
        var job = JobFile();
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(job))!;
        spec["algorithm"] = new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 0.1, ["batchSize"] = 64 };
        spec["communication"] = new JsonObject { ["synchronization"] = "async" };
        await File.WriteAllTextAsync(job, spec.ToJsonString());

        var (code, output, error) = await Cli.RunAsync("plan", job, "--store", Path.Combine(_dir, "s"));

        Assert.True(code == 0, error);
        Assert.Contains("asynchronous: each worker applies 6 updates", output);
    }

    [Fact]
    public async Task Plan_UnknownModel_ExitsTwoNamingTheField()
    {
        var (code, _, error) = await Cli.RunAsync("plan", JobFile(model: "forest"), "--store", Path.Combine(_dir, "s"));

        Assert.Equal(2, code);
        Assert.Contains("model.type", error);
    }

    [Fact]
    public async Task Plan_ZeroRoundsOrUnknownConstant_ExitsTwoNamingTheOption()
    {
        var job = JobFile();
        var constants = Path.Combine(_dir, "c.json");
        await File.WriteAllTextAsync(constants, """{ "s3LatencySecond": 0.01 }""");

        var rounds = await Cli.RunAsync("plan", job, "--rounds", "0", "--store", Path.Combine(_dir, "s"));
        var unknown = await Cli.RunAsync("plan", job, "--constants", constants, "--store", Path.Combine(_dir, "s"));

        Assert.Equal(2, rounds.Code);
        Assert.Contains("--rounds", rounds.Err);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("s3LatencySecond", unknown.Err);
    }

    [Fact]
    public async Task Plan_JsonAndHtml_HoldTheTableFrontVmsAndVerdict()
    {
        var html = Path.Combine(_dir, "plan.html");

        var (code, output, error) = await Cli.RunAsync("plan", JobFile(), "--rounds", "20", "--json", "--out", html, "--store", Path.Combine(_dir, "s"));

        Assert.True(code == 0, error);
        var plan = JsonNode.Parse(output)!;
        Assert.Equal(20, plan["rounds"]!.GetValue<int>());
        Assert.Equal(PipelineFixture.Features, plan["features"]!.GetValue<int>());
        // 6 listed sizes plus the job's 2048 MB, 9 listed worker counts (4 among them).
        Assert.Equal(7 * 9, plan["points"]!.AsArray().Count);
        Assert.NotEmpty(plan["pareto"]!.AsArray());
        Assert.Equal(VmType.Defaults.Count, plan["vms"]!.AsArray().Count);
        Assert.False(string.IsNullOrWhiteSpace(plan["verdict"]!.GetValue<string>()));
        var page = await File.ReadAllTextAsync(html);
        Assert.Contains("<svg class=\"chart\" id=\"plan\"", page);
        Assert.Contains("Pareto front", page);
    }

    [Fact]
    public async Task Plan_FromRun_RefitsConstantsAndPredictsTheRunsRound()
    {
        var storeDir = Path.Combine(_dir, "s");
        var store = new FileObjectStore(storeDir);
        var job = PipelineFixture.Job("admm", maxRounds: 6, runId: "refit-run", partitions: 4);
        job["dataset"]!["path"] = "datasets/d.libsvm";
        await using (var file = File.OpenRead(data.DatasetFile)) await store.PutAsync("datasets/d.libsvm", file);
        var run = await PipelineFixture.RunAsync(store, job);
        Assert.True(run.Succeeded, $"{run.Error}: {run.Cause}");
        var jobFile = Path.Combine(_dir, "refit.json");
        await File.WriteAllTextAsync(jobFile, job.ToJsonString());
        // The run's store is a local folder: requests take microseconds, not S3's milliseconds.
        var constants = Path.Combine(_dir, "local.json");
        await File.WriteAllTextAsync(constants, """{ "s3LatencySeconds": 0.0001, "s3BytesPerSecond": 1e9, "coldStartSeconds": 0 }""");

        var (code, output, error) = await Cli.RunAsync("plan", jobFile, "--from", "refit-run", "--json", "--constants", constants, "--store", storeDir);

        Assert.True(code == 0, error);
        var plan = JsonNode.Parse(output)!;
        var metrics = (await File.ReadAllLinesAsync(Path.Combine(storeDir, "runs", "refit-run", "metrics.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        var walls = metrics.Select((m, i) => m["elapsedSeconds"]!.GetValue<double>() - (i == 0 ? 0 : metrics[i - 1]["elapsedSeconds"]!.GetValue<double>())).ToList();
        var steady = Refit.Median(walls.Skip(1));
        Assert.Equal(6, plan["rounds"]!.GetValue<int>());
        Assert.Equal(Math.Max(0, walls[0] - steady), plan["constants"]!["coldStartSeconds"]!.GetValue<double>(), 6);
        // The refit constants, applied to the run's own configuration, give back its measured round.
        var own = plan["points"]!.AsArray().Single(p => p!["memoryMb"]!.GetValue<int>() == 2048 && p["workers"]!.GetValue<int>() == 4)!;
        Assert.InRange(own["roundSeconds"]!.GetValue<double>() / steady, 0.65, 1.35);
    }
}
