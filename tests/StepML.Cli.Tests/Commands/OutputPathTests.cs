using static StepML.Cli.Tests.Commands.Cli;

namespace StepML.Cli.Tests.Commands;

/// <summary>An <c>--out</c> that points at a missing folder, a folder, the command's own input or the store's objects is
/// refused before anything is computed (exit 2, the fix named), and what was there is left as it was.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class OutputPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-out-").FullName;
    private string Store => Path.Combine(_dir, "store");
    private string Data => Path.Combine(_dir, "train.libsvm");

    private static readonly string s_rows = string.Concat(Enumerable.Range(0, 200).Select(i => $"{i % 2} 1:{i * 0.01:F2} 2:{(i % 7) * 0.1:F1}\n"));

    private async Task<string> TrainAsync()
    {
        File.WriteAllText(Data, s_rows);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "runId": "r1", "dataset": { "path": "train.libsvm", "partitions": 2 }, "stop": { "maxRounds": 2 } }""");
        var (code, _, error) = await RunAsync("run", job, "--store", Store, "--quiet");
        Assert.True(code == 0, error);
        return Path.Combine(Store, "runs", "r1", "model", "final.tensor");
    }

    private static void AssertRefused((int Code, string Out, string Err) result, params string[] expected)
    {
        Assert.Equal(2, result.Code);
        foreach (var text in expected) Assert.Contains(text, result.Err);
        Assert.DoesNotContain("   at ", result.Err);
    }

    [Fact]
    public async Task Predict_OutIsTheDataFile_IsRefusedAndTheDataKept()
    {
        await TrainAsync();

        var result = await RunAsync("predict", "r1", Data, "--store", Store, "--out", Data);

        AssertRefused(result, "--out", "is the file this command reads");
        Assert.Equal(s_rows, File.ReadAllText(Data));
    }

    [Fact]
    public async Task Predict_OutIsTheRunsModel_IsRefusedAndTheModelKept()
    {
        var model = await TrainAsync();
        var before = File.ReadAllBytes(model);

        var result = await RunAsync("predict", "r1", Data, "--store", Store, "--out", model);

        AssertRefused(result, "inside the store's runs/ folder");
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public async Task Export_OnnxOverTheRunsModel_IsRefusedAndTheModelKept()
    {
        var model = await TrainAsync();
        var before = File.ReadAllBytes(model);

        var result = await RunAsync("export", "r1", "--format", "onnx", "--store", Store, "--out", model);

        AssertRefused(result, "inside the store's runs/ folder");
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Theory]
    [InlineData("predict")]
    [InlineData("export")]
    public async Task PredictAndExport_OutInMissingFolder_ExitTwoNamingTheFolder(string command)
    {
        await TrainAsync();
        var missing = Path.Combine(_dir, "no-such-folder");
        var target = Path.Combine(missing, "out.file");
        string[] args = command == "predict"
            ? ["predict", "r1", Data, "--store", Store, "--out", target]
            : ["export", "r1", "--format", "onnx", "--store", Store, "--out", target];

        var result = await RunAsync(args);

        AssertRefused(result, $"the folder '{missing}' does not exist", "mkdir -p");
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Predict_OutIsAFolder_ExitTwoAskingForAFileName()
    {
        await TrainAsync();

        var result = await RunAsync("predict", "r1", Data, "--store", Store, "--out", _dir);

        AssertRefused(result, "is a folder: give a file name");
    }

    [Fact]
    public async Task ExportNpy_OutIsAFile_ExitTwoAndTheFileKept()
    {
        await TrainAsync();
        var file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "keep me");

        var result = await RunAsync("export", "r1", "--format", "npy", "--store", Store, "--out", file);

        AssertRefused(result, "is a file: this command writes a folder");
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public async Task DataGenerate_OutInMissingFolder_ExitTwoBeforeWritingAnything()
    {
        var target = Path.Combine(_dir, "missing", "x.libsvm");

        var result = await RunAsync("data", "generate", "higgs", "--rows", "10", "--out", target, "--quiet");

        AssertRefused(result, "does not exist", "mkdir -p");
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task DataGenerate_OutIsAFolder_ExitTwoNotAFault()
    {
        var result = await RunAsync("data", "generate", "higgs", "--rows", "10", "--out", _dir, "--quiet");

        AssertRefused(result, "is a folder");
    }

    [Fact]
    public async Task DataPartition_OutIsAFile_ExitTwoAndTheFileKept()
    {
        File.WriteAllText(Data, s_rows);
        var file = Path.Combine(_dir, "existing.txt");
        File.WriteAllText(file, "keep me");

        var result = await RunAsync("data", "partition", Data, "--partitions", "2", "--out", file, "--quiet");

        AssertRefused(result, "is a file");
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("0", "--partitions 0")]
    [InlineData("500", "received no rows")]
    public async Task DataPartition_BadPartitionCount_ExitTwoAndLeavesNoFolder(string partitions, string message)
    {
        File.WriteAllText(Data, s_rows);
        var output = Path.Combine(_dir, "parts");

        var result = await RunAsync("data", "partition", Data, "--partitions", partitions, "--out", output, "--quiet");

        AssertRefused(result, message);
        Assert.DoesNotContain("(Parameter", result.Err);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Plan_OutInMissingFolder_ExitTwoBeforePlanning()
    {
        File.WriteAllText(Data, s_rows);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "dataset": { "path": "train.libsvm", "partitions": 2 } }""");

        var result = await RunAsync("plan", job, "--out", Path.Combine(_dir, "missing", "plan.html"));

        AssertRefused(result, "does not exist");
        Assert.Empty(result.Out);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
