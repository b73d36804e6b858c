using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StepML.Cli.Tests.Pipeline;
using StepML.Core.Data;
using StepML.Storage;

namespace StepML.Cli.Tests.Commands;

/// <summary>predict, evaluate and export on runs trained through the state machine, read back as a user would.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PredictCommandsTests(PipelineFixture data) : IClassFixture<PipelineFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-predict-").FullName;

    private async Task<(FileObjectStore Store, PipelineResult Result)> TrainAsync(JsonObject job)
    {
        var store = new FileObjectStore(Path.Combine(_dir, "store"));
        await using (var file = File.OpenRead(data.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        var result = await PipelineFixture.RunAsync(store, job);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        return (store, result);
    }

    private static double Field(string line, string name)
    {
        var parts = line.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var value = parts[Array.IndexOf(parts, name) + 1].TrimEnd('%');
        return double.Parse(value, CultureInfo.InvariantCulture) / (parts[Array.IndexOf(parts, name) + 1].EndsWith('%') ? 100 : 1);
    }

    [Fact]
    public async Task Evaluate_RunOnItsValidationPartition_AgreesWithFinalize()
    {
        var (store, result) = await TrainAsync(PipelineFixture.Job("admm", maxRounds: 4));
        var summary = result.Summary!;

        var (code, output, error) = await Cli.RunAsync("evaluate", "test-run", "runs/test-run/partitions/validation.part", "--store", store.Root);

        Assert.True(code == 0, error);
        Assert.Equal(summary.ValidationLoss!.Value, Field(output, "loss"), 5e-7);
        Assert.Equal(summary.ValidationMetric!.Value, Field(output, "accuracy"), 1e-6);
    }

    [Fact]
    public async Task Predict_ModelFileOnLibSvmRows_OneLinePerRowInFileOrderMatchingEvaluate()
    {
        var (store, _) = await TrainAsync(PipelineFixture.Job("admm", maxRounds: 3));
        var rows = Path.Combine(_dir, "rows.libsvm");
        File.WriteAllLines(rows, File.ReadLines(data.DatasetFile).Take(500));
        var predictions = Path.Combine(_dir, "p.csv");

        var modelFile = Path.Combine(store.Root, "runs", "test-run", "model", "final.tensor");
        var (code, _, error) = await Cli.RunAsync("predict", modelFile, rows, "--out", predictions);
        var (evalCode, evaluation, _) = await Cli.RunAsync("evaluate", modelFile, rows);

        Assert.True(code == 0, error);
        Assert.Equal(0, evalCode);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("row,class,probability", lines[0]);
        Assert.Equal(501, lines.Length);
        // Accuracy from the predicted classes against the file's labels, row by row in file order, equals evaluate's.
        var labels = File.ReadLines(rows).Select(l => l.StartsWith('1') ? 1 : 0).ToArray();
        var correct = lines.Skip(1).Select(l => l.Split(',')).Count(p => int.Parse(p[1], CultureInfo.InvariantCulture) == labels[int.Parse(p[0], CultureInfo.InvariantCulture)]);
        Assert.Equal(correct / 500.0, Field(evaluation, "accuracy"), 1e-4);
        Assert.All(lines.Skip(1), l => Assert.InRange(double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture), 0, 1));
    }

    [Fact]
    public async Task Predict_KMeansRun_PrintsClusterIdsAndEvaluateMatchesValidationInertia()
    {
        var blobs = Path.Combine(_dir, "blobs.libsvm");
        await using (var writer = new StreamWriter(blobs))
            SyntheticData.WriteBlobs(writer, 3000, 4, 3, 9);
        var store = new FileObjectStore(Path.Combine(_dir, "kstore"));
        await using (var file = File.OpenRead(blobs))
            await store.PutAsync("datasets/blobs.libsvm", file);
        var job = new JsonObject
        {
            ["name"] = "k", ["runId"] = "k-run",
            ["dataset"] = new JsonObject { ["path"] = "datasets/blobs.libsvm", ["partitions"] = 2 },
            ["model"] = new JsonObject { ["type"] = "kmeans", ["clusters"] = 3 },
            ["algorithm"] = new JsonObject { ["type"] = "kmeans-em" },
            ["stop"] = new JsonObject { ["maxRounds"] = 5 },
        };
        var result = await PipelineFixture.RunAsync(store, job);
        Assert.True(result.Succeeded, result.Cause);

        var (code, output, error) = await Cli.RunAsync("predict", "k-run", "runs/k-run/partitions/validation.part", "--store", store.Root);
        var (_, evaluation, _) = await Cli.RunAsync("evaluate", "k-run", "runs/k-run/partitions/validation.part", "--store", store.Root);

        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,cluster,distance", lines[0].TrimEnd('\r'));
        Assert.All(lines.Skip(1), l => Assert.InRange(int.Parse(l.Split(',')[1], CultureInfo.InvariantCulture), 0, 2));
        Assert.Equal(result.Summary!.ValidationMetric!.Value, Field(evaluation, "inertia"), 1e-5);
    }

    [Fact]
    public async Task Export_OnnxOfTrainedRun_OnnxRuntimeAgreesWithPredict()
    {
        var (store, _) = await TrainAsync(PipelineFixture.Job("ga-sgd", maxRounds: 3));
        var onnx = Path.Combine(_dir, "m.onnx");
        var validation = Partition.Decode(await store.GetAsync(RunLayout.Validation("test-run")), "v");

        var (code, _, error) = await Cli.RunAsync("export", "test-run", "--format", "onnx", "--out", onnx, "--store", store.Root);
        var (_, predicted, _) = await Cli.RunAsync("predict", "test-run", "runs/test-run/partitions/validation.part", "--store", store.Root);

        Assert.True(code == 0, error);
        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(validation.Dense!, [validation.Rows, validation.Features]))]);
        var probabilities = results.Single().AsTensor<float>().ToArray();
        var lines = predicted.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        Assert.Equal(validation.Rows, lines.Length);
        for (var r = 0; r < lines.Length; r++)
            Assert.Equal(double.Parse(lines[r].Split(',')[2], CultureInfo.InvariantCulture), probabilities[r], 1e-5);
    }

    [Fact]
    public async Task Export_KMeansAsOnnx_ExitsTwoSuggestingNpy()
    {
        var store = new FileObjectStore(Path.Combine(_dir, "s"));
        await store.PutAsync("runs/x/job.json", """{"dataset":{"path":"d.libsvm","features":2},"model":{"type":"kmeans","clusters":2},"algorithm":{"type":"kmeans-em"}}"""u8.ToArray());
        await store.PutAsync("runs/x/model/final.tensor", StepML.Core.Tensors.TensorCodec.Encode(new float[4], [2, 2], 1));

        var (code, _, error) = await Cli.RunAsync("export", "x", "--format", "onnx", "--out", Path.Combine(_dir, "k.onnx"), "--store", store.Root);

        Assert.Equal(2, code);
        Assert.Contains("--format npy", error);
    }

    [Fact]
    public async Task Predict_RunWithoutFinalModel_ExitsTwoWithWatchHintKeepingStore()
    {
        var store = new FileObjectStore(Path.Combine(_dir, "s2"));
        await store.PutAsync("runs/y/job.json", """{"dataset":{"path":"d.libsvm","features":2}}"""u8.ToArray());

        var (code, _, error) = await Cli.RunAsync("predict", "y", "rows.libsvm", "--store", store.Root);

        Assert.Equal(2, code);
        Assert.Contains($"stepml watch y --store {store.Root}", error);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
