using System.Text.Json.Nodes;
using StepML.Cli.Tests.Pipeline;

namespace StepML.Cli.Tests.Commands;

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Drives the real command line in-process, capturing what a user would see.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-cli-").FullName;

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => Cli.RunAsync(args);

    [Theory]
    [InlineData("demo")]
    [InlineData("run")]
    [InlineData("data", "generate")]
    [InlineData("data", "partition")]
    [InlineData("history")]
    [InlineData("runs")]
    [InlineData("watch")]
    [InlineData("report")]
    [InlineData("predict")]
    [InlineData("evaluate")]
    [InlineData("export")]
    public async Task Help_EveryCommand_DescribesItsOptions(params string[] command)
    {
        var (code, output, _) = await RunAsync([.. command, "--help"]);

        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        Assert.Contains("Options:", output);
    }

    [Fact]
    public async Task Run_JobWithLocalDatasetFile_ImportsItTrainsAndShowsHistory()
    {
        var data = Path.Combine(_dir, "small.libsvm");
        Assert.Equal(0, (await RunAsync("data", "generate", "higgs", "--rows", "4000", "--features", "6", "--seed", "3", "--out", data)).Code);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "name": "cli", "runId": "cli-run", "dataset": { "path": "small.libsvm", "partitions": 2 }, "stop": { "maxRounds": 3 } }""");
        var store = Path.Combine(_dir, "store");

        var (code, output, error) = await RunAsync("run", job, "--store", store);

        Assert.True(code == 0, error);
        Assert.Contains("copied small.libsvm into the store as datasets/small.libsvm", output);
        Assert.Contains("round    2  loss", output);
        Assert.Contains("finished cli-run after 3 rounds", output);
        var (historyCode, history, _) = await RunAsync("history", "cli-run", "--store", store);
        Assert.Equal(0, historyCode);
        Assert.Contains("Prepare", history);
        Assert.Contains("Workers", history);
        Assert.Contains("Map", history);

        // A cloud run leaves no state history in the store (that is in the console): history shows its rounds.
        Directory.Delete(Path.Combine(store, "runs", "cli-run", "history"), recursive: true);
        var (roundsCode, rounds, roundsError) = await RunAsync("history", "cli-run", "--store", store);
        Assert.True(roundsCode == 0, roundsError);
        Assert.Contains("Step Functions console", rounds);
        Assert.Contains("decision", rounds);
        Assert.Equal(3, rounds.Split('\n').Count(l => l.Contains("continue") || l.Contains("stop")));
    }

    [Fact]
    public async Task Run_JobWithUnknownField_ExitsTwoNamingFieldAndSuggestion()
    {
        var job = Path.Combine(_dir, "bad.json");
        File.WriteAllText(job, """{ "dataset": { "path": "x.libsvm", "partitons": 2 } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", Path.Combine(_dir, "store"));

        Assert.Equal(2, code);
        Assert.Contains("bad.json", error);
        Assert.Contains("dataset.partitons", error);
        Assert.Contains("did you mean 'partitions'?", error);
    }

    [Fact]
    public async Task Run_MissingDataset_ExitsTwoNamingDatasetPath()
    {
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "dataset": { "path": "datasets/nowhere.libsvm" } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", Path.Combine(_dir, "store"));

        Assert.Equal(2, code);
        Assert.Contains("dataset.path", error);
        Assert.Contains("datasets/nowhere.libsvm", error);
    }

    [Fact]
    public async Task DataPartition_GeneratedFile_WritesPartitionsAndValidation()
    {
        var data = Path.Combine(_dir, "p.libsvm");
        await RunAsync("data", "generate", "higgs", "--rows", "3000", "--features", "5", "--out", data);
        var output = Path.Combine(_dir, "parts");

        var (code, text, error) = await RunAsync("data", "partition", data, "--partitions", "3", "--validation-fraction", "0.2", "--out", output);

        Assert.True(code == 0, error);
        Assert.Contains("3,000 rows, 5 features -> 3 partitions", text);
        Assert.True(File.Exists(Path.Combine(output, "0.part")));
        Assert.True(File.Exists(Path.Combine(output, "2.part")));
        Assert.True(File.Exists(Path.Combine(output, "validation.part")));
    }

    [Fact]
    public async Task DataPartition_MalformedLine_ExitsTwoNamingFileAndLine()
    {
        var data = Path.Combine(_dir, "bad.libsvm");
        File.WriteAllText(data, "1 1:0.5\n0 1:x\n");

        var (code, _, error) = await RunAsync("data", "partition", data, "--partitions", "1", "--out", Path.Combine(_dir, "out"));

        Assert.Equal(2, code);
        Assert.Contains("bad.libsvm:2", error);
    }

    [Fact]
    public async Task History_UnknownRun_ExitsTwoWithHint()
    {
        var store = Directory.CreateDirectory(Path.Combine(_dir, "store")).FullName; // a store without that run
        var (code, _, error) = await RunAsync("history", "no-such-run", "--store", store);

        Assert.Equal(2, code);
        Assert.Contains("no history", error);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
