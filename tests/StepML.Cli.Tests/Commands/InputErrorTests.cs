using System.IO.Compression;
using System.Text;
using static StepML.Cli.Tests.Commands.Cli;

namespace StepML.Cli.Tests.Commands;

/// <summary>Bad input of every kind exits 2 with one message naming the file and line or the field, through the real
/// command line and state machine.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class InputErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-input-").FullName;
    private string Store => Path.Combine(_dir, "store");

    private static readonly string s_rows = string.Concat(Enumerable.Range(0, 200).Select(i => $"{i % 2} 1:{i * 0.01:F2} 2:{(i % 7) * 0.1:F1}\n"));

    private async Task<(int Code, string Out, string Err)> RunJobOnAsync(string dataFile, byte[] bytes, string extra = "")
    {
        File.WriteAllBytes(Path.Combine(_dir, dataFile), bytes);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, $$"""{ "dataset": { "path": "{{dataFile}}", "partitions": 2 }, "stop": { "maxRounds": 2 }{{extra}} }""");
        return await RunAsync("run", job, "--store", Store, "--quiet");
    }

    private static void AssertOneMessage(string error, params string[] expected)
    {
        foreach (var text in expected) Assert.Contains(text, error);
        Assert.Equal(1, error.Split("stepml:").Length - 1);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task Run_GzipDataset_ExitsTwoSayingDecompressAndNamingTheLocalFile()
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(Encoding.ASCII.GetBytes(s_rows));

        var (code, _, error) = await RunJobOnAsync("train.libsvm", compressed.ToArray());

        Assert.Equal(2, code);
        AssertOneMessage(error, "datasets/train.libsvm", Path.Combine(_dir, "train.libsvm"), ":1:", "gzip-compressed", "gunzip");
    }

    [Fact]
    public async Task Run_BinaryGarbage_ExitsTwoSayingNotATextFileWithoutEchoingIt()
    {
        var garbage = new byte[3 << 20];
        new Random(3).NextBytes(garbage);

        var (code, _, error) = await RunJobOnAsync("noise.libsvm", garbage);

        Assert.Equal(2, code);
        AssertOneMessage(error, "noise.libsvm", "not a text file");
        Assert.True(error.Length < 1000, $"{error.Length} characters");
    }

    [Fact]
    public async Task Run_Utf8ByteOrderMark_Trains()
    {
        var (code, output, error) = await RunJobOnAsync("bom.libsvm", [0xEF, 0xBB, 0xBF, .. Encoding.ASCII.GetBytes(s_rows)]);

        Assert.True(code == 0, error);
        Assert.Contains("finished", output);
    }

    [Fact]
    public async Task Run_EmptyFile_ExitsTwoSayingItIsEmpty()
    {
        var (code, _, error) = await RunJobOnAsync("empty.libsvm", []);

        Assert.Equal(2, code);
        AssertOneMessage(error, "empty.libsvm", "the file is empty");
    }

    [Fact]
    public async Task Run_LibSvmNamedCsv_ExitsTwoSuggestingTheFormat()
    {
        var (code, _, error) = await RunJobOnAsync("data.csv", Encoding.ASCII.GetBytes(s_rows));

        Assert.Equal(2, code);
        AssertOneMessage(error, "data.csv", ":1:", "looks like LIBSVM", "dataset.format");
    }

    [Fact]
    public async Task Run_BadLineDeepInFile_ExitsTwoNamingTheLine()
    {
        var (code, _, error) = await RunJobOnAsync("bad.libsvm", Encoding.ASCII.GetBytes(s_rows + "1 1:0.5 2:oops\n"));

        Assert.Equal(2, code);
        AssertOneMessage(error, "bad.libsvm", ":201:", "'oops'");
    }

    [Fact]
    public async Task Run_BadJobField_ExitsTwoWithTheFieldPrefixedOnce()
    {
        var job = Path.Combine(_dir, "neg.json");
        File.WriteAllText(job, """{ "dataset": { "path": "x.libsvm" }, "stop": { "maxRounds": -1 } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "neg.json: job spec field 'stop.maxRounds'");
        Assert.Equal(1, error.Split("job spec field").Length - 1);
    }

    [Fact]
    public async Task Run_HugeJobValue_MessageIsClipped()
    {
        var job = Path.Combine(_dir, "huge.json");
        File.WriteAllText(job, $$"""{ "dataset": { "path": "{{new string('x', 3_000_000)}}" } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", Store);

        Assert.Equal(2, code);
        Assert.True(error.Length < 3000, $"{error.Length} characters");
    }

    [Theory]
    [InlineData("run", "job.json", "--bogus")]
    [InlineData("run", "job.json", "--concurrency", "many")]
    [InlineData("frob")]
    [InlineData("history")]
    public async Task Cli_BadArguments_ExitTwoWithOneLineAndNoHelpDump(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.StartsWith("stepml: ", error);
        Assert.Contains("--help", error);
        Assert.DoesNotContain("Usage:", output + error);
    }

    [Fact]
    public async Task Cli_Verbose_IsAcceptedByEveryCommand()
    {
        Directory.CreateDirectory(Store);
        var (code, _, error) = await RunAsync("history", "no-such-run", "--store", Store, "--verbose");

        Assert.Equal(2, code);
        Assert.Contains("no history", error);
    }

    [Fact]
    public async Task Run_SameRunIdWithADifferentLocalFile_IsRefusedAndTheStoredDatasetIsKept()
    {
        var data = Path.Combine(_dir, "train.libsvm");
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "runId": "r1", "dataset": { "path": "train.libsvm", "partitions": 2 }, "stop": { "maxRounds": 2 } }""");
        File.WriteAllText(data, s_rows);
        Assert.Equal(0, (await RunAsync("run", job, "--store", Store, "--quiet")).Code);
        var model = File.ReadAllBytes(Path.Combine(Store, "runs", "r1", "model", "final.tensor"));
        File.WriteAllText(data, s_rows.Replace("0 1:", "1 1:"));

        var (code, output, error) = await RunAsync("run", job, "--store", Store);

        Assert.Equal(2, code);
        Assert.Matches(@"copied train\.libsvm into the store as datasets/train-[0-9a-f]{12}\.libsvm \(datasets/train\.libsvm in the store holds different data", output);
        AssertOneMessage(error, "run 'r1' already exists");
        Assert.Equal(s_rows, File.ReadAllText(Path.Combine(Store, "datasets", "train.libsvm")));
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(Store, "runs", "r1", "model", "final.tensor")));
    }

    [Fact]
    public async Task Run_StoreThatCannotBeOpened_ExitsOneNamingTheCauseWithoutStackTrace()
    {
        var notAFolder = Path.Combine(_dir, "store-is-a-file");
        File.WriteAllText(notAFolder, "x");
        File.WriteAllText(Path.Combine(_dir, "d.libsvm"), s_rows);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "dataset": { "path": "d.libsvm" } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", notAFolder);
        var (verboseCode, _, verboseError) = await RunAsync("run", job, "--store", notAFolder, "--verbose");

        Assert.Equal(1, code);
        Assert.StartsWith("stepml: IOException: ", error);
        Assert.Contains(notAFolder, error);
        Assert.Contains("is a file, not a folder", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(1, verboseCode);
        Assert.Contains("   at ", verboseError);
    }

    private async Task<string> TrainR1Async()
    {
        File.WriteAllText(Path.Combine(_dir, "train.libsvm"), s_rows);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "runId": "r1", "dataset": { "path": "train.libsvm", "partitions": 2 }, "stop": { "maxRounds": 2 } }""");
        var (code, _, error) = await RunAsync("run", job, "--store", Store, "--quiet");
        Assert.True(code == 0, error);
        return job;
    }

    [Fact]
    public async Task Resume_RunThatDoesNotExist_ExitsTwoAndWritesNoRunFolder()
    {
        await TrainR1Async();

        var (code, _, error) = await RunAsync("resume", "r2", "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "run 'r2' does not exist", "stepml runs");
        Assert.False(Directory.Exists(Path.Combine(Store, "runs", "r2")));
    }

    [Fact]
    public async Task Resume_RunStoppedByMaxRounds_ExitsTwoSayingMaxRoundsAndTheRunIsUnchanged()
    {
        await TrainR1Async();
        var files = Directory.GetFiles(Path.Combine(Store, "runs", "r1"), "*", SearchOption.AllDirectories).Order().ToArray();

        var (code, _, error) = await RunAsync("resume", "r1", "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "--max-rounds");
        Assert.Equal(files, Directory.GetFiles(Path.Combine(Store, "runs", "r1"), "*", SearchOption.AllDirectories).Order().ToArray());
    }

    [Theory]
    [InlineData("runs")]
    [InlineData("resume", "r1")]
    [InlineData("history", "r1")]
    [InlineData("gc")]
    public async Task ReadingCommands_StoreFolderMissing_ExitTwoAndCreateNothing(params string[] args)
    {
        var typo = Path.Combine(_dir, "stroe");

        var (code, _, error) = await RunAsync([.. args, "--store", typo]);

        Assert.Equal(2, code);
        AssertOneMessage(error, $"no store folder '{typo}'");
        Assert.False(Directory.Exists(typo));
    }

    [Fact]
    public async Task History_NegativeRound_ExitsTwo()
    {
        await TrainR1Async();

        var (code, _, error) = await RunAsync("history", "r1", "--store", Store, "--round", "-1");

        Assert.Equal(2, code);
        AssertOneMessage(error, "--round -1");
    }

    [Fact]
    public async Task Run_LearningRateBeyondFloatRange_ExitsTwoInsteadOfTrainingNothing()
    {
        var job = await TrainR1Async();

        var (code, _, error) = await RunAsync("run", job, "--store", Store, "--set", "runId=r2", "--set", "algorithm.learningRate=1e308");

        Assert.Equal(2, code);
        AssertOneMessage(error, "algorithm.learningRate", "3.4e38");
        Assert.False(Directory.Exists(Path.Combine(Store, "runs", "r2")));
    }

    [Theory]
    [InlineData("--partitions", "0", "dataset.partitions")]
    [InlineData("--algorithm", "sgd", "algorithm.type")]
    [InlineData("--rows", "0", "--rows 0")]
    public async Task Demo_BadOption_ExitsTwoBeforeGeneratingData(string option, string value, string named)
    {
        var (code, output, error) = await RunAsync("demo", option, value, "--store", Store, "--quiet");

        Assert.Equal(2, code);
        AssertOneMessage(error, named, $"{option} {value}");
        Assert.DoesNotContain("generating", output);
        Assert.False(Directory.Exists(Path.Combine(Store, "datasets")));
    }

    [Theory]
    [InlineData("wide.libsvm", "1 1:0.5 2:0.1 3:0.9\n")]
    [InlineData("wide.csv", "1,0.5,0.1,0.9\n")]
    public async Task Predict_RowsWiderThanTheModel_NamesTheModelsFeatureCountNotAJobField(string name, string rows)
    {
        await TrainR1Async();
        var data = Path.Combine(_dir, name);
        File.WriteAllText(data, rows);

        var (code, _, error) = await RunAsync("predict", "r1", data, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, $"{data}:1:", "more features than the 2 the model was trained on");
        Assert.DoesNotContain("set dataset.features", error);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("-1")]
    [InlineData("0")]
    public async Task Report_OptimumNotAPositiveLoss_ExitsTwoAndKeepsTheReport(string optimum)
    {
        await TrainR1Async();
        var report = Path.Combine(Store, "runs", "r1", "report.html");
        var before = File.ReadAllBytes(report);

        var (code, _, error) = await RunAsync("report", "r1", "--store", Store, "--optimum", optimum);

        Assert.Equal(2, code);
        AssertOneMessage(error, $"--optimum {optimum}", "finite number > 0");
        Assert.Equal(before, File.ReadAllBytes(report));
    }

    [Fact]
    public async Task Watch_IntervalBeyondTimeSpan_ExitsTwoNotAnOverflowFault()
    {
        await TrainR1Async();

        var (code, _, error) = await RunAsync("watch", "r1", "--store", Store, "--interval", "1e300");

        Assert.Equal(2, code);
        AssertOneMessage(error, "--interval", "at most 86400");
    }

    [Theory]
    [InlineData("report")]
    [InlineData("resume")]
    public async Task ReportAndResume_DamagedJobJsonInTheStore_NameTheStoreObject(string command)
    {
        await TrainR1Async();
        File.WriteAllText(Path.Combine(Store, "runs", "r1", "job.json"), "garbage");

        var (code, _, error) = await RunAsync(command, "r1", "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "runs/r1/job.json: job spec field '$': not valid JSON (line 1, byte 1)");
    }

    [Fact]
    public async Task Run_DatasetPathIsALocalFolder_ExitsTwoSayingToNameTheFile()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "dataset": { "path": "data", "partitions": 2 } }""");

        var (code, _, error) = await RunAsync("run", job, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "job.json: job spec field 'dataset.path': 'data' is a local folder", "name the data file in it");
    }

    [Fact]
    public async Task Predict_TextDataAsPartFormat_ExitsTwoSuggestingTheTextFormats()
    {
        await TrainR1Async();

        var (code, _, error) = await RunAsync("predict", "r1", Path.Combine(_dir, "train.libsvm"), "--store", Store, "--format", "part");

        Assert.Equal(2, code);
        AssertOneMessage(error, "train.libsvm", "not a StepML partition", "--format libsvm or csv");
    }

    [Fact]
    public async Task Predict_DataFileGivenAsModel_ExitsTwoSayingWhatModelIs()
    {
        await TrainR1Async();
        var data = Path.Combine(_dir, "train.libsvm");

        var (code, _, error) = await RunAsync("predict", data, data, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "MODEL is not a StepML model file", "give a run id or a .tensor file");
    }

    [Fact]
    public async Task Run_JobPathIsAFolder_ExitsTwoSayingItIsAFolder()
    {
        var (code, _, error) = await RunAsync("run", _dir, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "is a folder, not a file");
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\n")]
    public async Task Run_EmptyJobFile_ExitsTwoSayingItIsEmptyWithoutReaderInternals(string text)
    {
        var job = Path.Combine(_dir, "blank.json");
        File.WriteAllText(job, text);

        var (code, _, error) = await RunAsync("run", job, "--store", Store);

        Assert.Equal(2, code);
        AssertOneMessage(error, "blank.json: job spec field '$': not valid JSON: the file is empty or blank");
        Assert.DoesNotContain("LineNumber", error);
        Assert.DoesNotContain("isFinalBlock", error);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
