using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StepML.Cli.Export;
using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Cli.Tests.Export;

/// <summary>Every exportable model, with seeded non-zero parameters, gives the same outputs in ONNX Runtime as
/// StepML's own <see cref="Predictions"/> on the same rows, to 1e-5.</summary>
public sealed class OnnxExporterTests
{
    public static TheoryData<string> Models() => ["logistic", "svm", "softmax", "mlp", "cnn-3x3", "cnn-5x5-odd"];

    private static IModel Create(string name) => name switch
    {
        "logistic" => new LogisticRegression(13),
        "svm" => new LinearSvm(13),
        "softmax" => NeuralModels.Softmax(13, 4),
        "mlp" => NeuralModels.Mlp(13, [9, 7], 5),
        // 8×8×2 images: two conv + pool layers (8 → 4 → 2).
        "cnn-3x3" => NeuralModels.Cnn(8, 8, 2, [3, 4], 3, 3),
        // 7×9×1: odd sides, where pooling drops the last row and column.
        _ => NeuralModels.Cnn(7, 9, 1, [5], 5, 4),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Export_EveryExportableModel_OnnxRuntimeAgreesWithPredictions(string name)
    {
        var model = Create(name);
        var parameters = new float[model.ParameterCount];
        var random = new Xoshiro256(7);
        for (var i = 0; i < parameters.Length; i++) parameters[i] = (float)(random.NextDouble() - 0.5);
        const int rows = 37;
        var values = new float[rows * model.Features];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(2 * random.NextDouble() - 1);
        var labels = new float[rows];
        var data = Partition.CreateDense(model.Features, labels, values);
        var expected = Predictions.Of(model, parameters, data);

        using var session = new InferenceSession(OnnxExporter.Export(model, parameters, name));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(values, [rows, model.Features]))]);
        var output = results.Single().AsTensor<float>().ToArray();

        Assert.Equal(expected.Kind switch { "probability" => "probability", "score" => "score", _ => "probabilities" }, results.Single().Name);
        Assert.Equal(expected.Values.Length, output.Length);
        for (var i = 0; i < output.Length; i++)
            Assert.True(Math.Abs(output[i] - expected.Values[i]) <= 1e-5, $"{name}: output {i} is {output[i]} in ONNX Runtime, {expected.Values[i]} in StepML");
    }

    [Fact]
    public void CanExport_KMeans_IsFalse()
    {
        Assert.False(OnnxExporter.CanExport(new KMeans(3, 2)));
        Assert.True(OnnxExporter.CanExport(new LinearSvm(3)));
    }
}
