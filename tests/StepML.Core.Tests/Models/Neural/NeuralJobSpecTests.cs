using StepML.Core.Jobs;

namespace StepML.Core.Tests.Models.Neural;

public class NeuralJobSpecTests
{
    private const string Minimal = """{"dataset": {"path": "datasets/x-images-idx3-ubyte.gz", "format": "idx", "labels": "datasets/x-labels"}, "model": {"type": "cnn"}}""";

    [Fact]
    public void Parse_NeuralFieldsOmitted_GetsDefaults()
    {
        var spec = JobSpecParser.Parse(Minimal);
        Assert.Equal([128], spec.Model.Hidden);
        Assert.Equal([16, 32], spec.Model.Channels);
        Assert.Equal((3, 0), (spec.Model.KernelSize, spec.Model.Classes));
        Assert.Empty(spec.Model.InputShape);
        Assert.Equal(("sgd", 0.9, 0.999, 1e-8), (spec.Algorithm.Optimizer, spec.Algorithm.Beta1, spec.Algorithm.Beta2, spec.Algorithm.Epsilon));
        Assert.Equal(("", ""), (spec.Dataset.TestPath, spec.Dataset.TestLabels));
    }

    [Fact]
    public void ToJson_ThenParse_RoundTripsArraysAndOptimizer()
    {
        var spec = JobSpecParser.Parse("""
            {"dataset": {"path": "datasets/a.bin", "format": "cifar", "testPath": "datasets/t.bin"},
             "model": {"type": "mlp", "hidden": [64, 32], "classes": 10, "inputShape": [32, 32, 3]},
             "algorithm": {"type": "ga-sgd", "optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}}
            """);
        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));
        Assert.Equal(spec, again);
        Assert.Equal([64, 32], again.Model.Hidden);
        Assert.NotEqual(spec, spec with { Model = spec.Model with { Hidden = [64, 33] } });
    }

    [Theory]
    [InlineData("""{"type": "mlp", "hidden": [0]}""", "model.hidden")]
    [InlineData("""{"type": "mlp", "hidden": [12, "x"]}""", "model.hidden[1]")]
    [InlineData("""{"type": "cnn", "kernelSize": 4}""", "model.kernelSize")]
    [InlineData("""{"type": "cnn", "channels": []}""", "model.channels")]
    [InlineData("""{"type": "cnn", "inputShape": [28, 28]}""", "model.inputShape")]
    [InlineData("""{"type": "softmax", "classes": 1}""", "model.classes")]
    [InlineData("""{"type": "resnet", "depth": 10}""", "model.depth")]
    [InlineData("""{"type": "mobilenet", "widthMultiplier": 0}""", "model.widthMultiplier")]
    [InlineData("""{"type": "resnet", "cropPadding": 17}""", "model.cropPadding")]
    [InlineData("""{"type": "mlp", "cropPadding": 4}""", "model.cropPadding")]
    [InlineData("""{"type": "softmax", "horizontalFlip": true}""", "model.horizontalFlip")]
    [InlineData("""{"type": "resnet", "widthMultiplier": "wide"}""", "model.widthMultiplier")]
    public void Parse_BadModelField_NamesIt(string model, string field)
    {
        var json = Minimal.Replace("""{"type": "cnn"}""", model);
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));
        Assert.Equal(field, e.Field);
    }

    [Theory]
    [InlineData("admm")]
    [InlineData("newton")]
    public void Parse_BatchNormNetworkWithOtherAlgorithm_NamesAlgorithmType(string algorithm)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Minimal.Replace("\"cnn\"}}", "\"resnet\"}, \"algorithm\": {\"type\": \"" + algorithm + "\"}}")));
        Assert.Equal("algorithm.type", e.Field);
        Assert.Contains("ga-sgd", e.Message);
    }

    [Fact]
    public void ToJson_ThenParse_RoundTripsDeepNetworkFields()
    {
        var spec = JobSpecParser.Parse(Minimal.Replace("\"cnn\"}}", """ "resnet", "depth": 32, "widthMultiplier": 0.5, "cropPadding": 4, "horizontalFlip": true}, "algorithm": {"type": "ma-sgd"}}"""));
        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));
        Assert.Equal(spec, again);
        Assert.Equal((32, 0.5, 4, true), (again.Model.Depth, again.Model.WidthMultiplier, again.Model.CropPadding, again.Model.HorizontalFlip));
        Assert.NotEqual(spec, spec with { Model = spec.Model with { Depth = 20 } });
    }

    [Fact]
    public void Parse_AdamWithMaSgd_IsRejected()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Minimal.Replace("}}", """}, "algorithm": {"type": "ma-sgd", "optimizer": "adam"}}""")));
        Assert.Equal("algorithm.optimizer", e.Field);
    }

    [Fact]
    public void Parse_AdamWithMomentum_NamesMomentum()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Minimal.Replace("}}", """}, "algorithm": {"type": "ga-sgd", "optimizer": "adam", "momentum": 0.9}}""")));
        Assert.Equal("algorithm.momentum", e.Field);
    }

    [Fact]
    public void Parse_IdxWithoutLabels_NamesDatasetLabels()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse("""{"dataset": {"path": "datasets/x", "format": "idx"}}"""));
        Assert.Equal("dataset.labels", e.Field);
    }

    [Fact]
    public void Parse_UnknownOptimizer_SuggestsClosest()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Minimal.Replace("}}", """}, "algorithm": {"type": "ga-sgd", "optimizer": "adan"}}""")));
        Assert.Contains("did you mean \"adam\"", e.Message);
    }
}
