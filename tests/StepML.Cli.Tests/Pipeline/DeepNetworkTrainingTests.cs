using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Models.Neural;
using StepML.Core.Tensors;
using StepML.Storage;
using Xunit.Abstractions;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Issue 13, CI size: a small ResNet (GA-SGD with momentum, MA-SGD) and a small MobileNet (GA-SGD with Adam, MA-SGD)
/// train on 6,000 Fashion-MNIST images in 8 partitions through the real state machine, with crop and flip
/// augmentation, and Finalize evaluates 1,000 test images with the merged batch-norm statistics; the bounds sit below
/// the measured accuracies (each test states its figure) and far above chance (0.10). The full-size runs are
/// examples/fashion-resnet.json and examples/fashion-mobilenet.json (see README).</summary>
public sealed class DeepNetworkTrainingTests(FashionFixture fixture, ITestOutputHelper output) : IClassFixture<FashionFixture>
{
    private static readonly JsonObject s_augment = new() { ["cropPadding"] = 2, ["horizontalFlip"] = true };

    private async Task<double> TrainAsync(IObjectStore store, JsonObject job)
    {
        var result = await PipelineFixture.RunAsync(store, job);
        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var summary = result.Summary!;
        output.WriteLine($"{job["name"]}: test accuracy {summary.TestAccuracy:F4}, validation {summary.ValidationAccuracy:F4}, {summary.Rounds} rounds, {summary.ElapsedSeconds:F1} s ({(fixture.Installed ? "Fashion-MNIST subset" : "generated images")})");
        return summary.TestAccuracy!.Value;
    }

    private static JsonObject With(JsonObject extra, JsonObject more)
    {
        var merged = (JsonObject)extra.DeepClone();
        foreach (var (k, v) in more) merged[k] = v?.DeepClone();
        return merged;
    }

    // The running moments in the last model are not the initial ones: the merged state moved.
    private static async Task AssertStateMovedAsync(IObjectStore store, string runId, JsonObject modelFields)
    {
        var spec = new ModelSpec
        {
            Type = (string)modelFields["type"]!, Classes = 10, InputShape = [28, 28, 1],
            Depth = (int?)modelFields["depth"] ?? 20, WidthMultiplier = (double)modelFields["widthMultiplier"]!,
        };
        var model = NeuralModels.Create(spec, 784);
        var initial = new float[model.ParameterCount];
        model.Initialize(initial, 3);
        var trained = TensorCodec.Decode(await store.GetAsync(RunLayout.FinalModel(runId)), runId, out _);
        Assert.Equal(model.ParameterCount, trained.Length);
        Assert.True(ModelState.Any(model, out var state));
        var moved = 0;
        for (var i = 0; i < state.Length; i++)
            if (state[i] != 0f && Math.Abs(trained[i] - initial[i]) > 1e-3f) moved++;
        Assert.True(moved > state.Count(s => s != 0f) / 2, $"only {moved} running moments moved");
    }

    [Fact]
    public async Task ResNet_GaSgdMomentum_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var model = new JsonObject { ["type"] = "resnet", ["depth"] = 8, ["widthMultiplier"] = 0.25 };
        var job = FashionFixture.Job("resnet", new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 0.03, ["momentum"] = 0.9, ["batchSize"] = 16 }, maxRounds: 80,
            With(model, s_augment));

        var accuracy = await TrainAsync(store, job);

        // Measured 0.562 (seed 3; runs are deterministic); chance is 0.10. (0.630 at η 0.1 with He's initialisation of
        // the convolutions, which batch norm follows; their smaller PyTorch-default weights take larger effective steps.)
        Assert.InRange(accuracy, 0.40, 1.0);
        await AssertStateMovedAsync(store, "fashion-resnet", model);
    }

    [Fact]
    public async Task ResNet_MaSgd_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var model = new JsonObject { ["type"] = "resnet", ["depth"] = 8, ["widthMultiplier"] = 0.25 };
        var job = FashionFixture.Job("resnet", new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = 0.05, ["batchSize"] = 32, ["localEpochs"] = 1 }, maxRounds: 3, model);

        // Measured 0.399 after 3 rounds of one local epoch each.
        Assert.InRange(await TrainAsync(store, job), 0.30, 1.0);
        await AssertStateMovedAsync(store, "fashion-resnet", model);
    }

    [Fact]
    public async Task MobileNet_GaSgdAdam_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var model = new JsonObject { ["type"] = "mobilenet", ["widthMultiplier"] = 0.125 };
        var job = FashionFixture.Job("mobilenet", new JsonObject { ["type"] = "ga-sgd", ["optimizer"] = "adam", ["learningRate"] = 0.003, ["batchSize"] = 16 }, maxRounds: 80,
            With(model, s_augment));

        // Measured 0.336: the 28-layer plain network at width 0.125 learns slowly on this budget (see README).
        Assert.InRange(await TrainAsync(store, job), 0.25, 1.0);
        await AssertStateMovedAsync(store, "fashion-mobilenet", model);
    }

    [Fact]
    public async Task MobileNet_MaSgd_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var model = new JsonObject { ["type"] = "mobilenet", ["widthMultiplier"] = 0.125 };
        // Batches of 128 make a round's local epoch 6 steps: averaging after 23 steps of batch 32 left MobileNet at
        // chance after 4 rounds, in PyTorch as here (README), while ResNet's shortcuts average well.
        var job = FashionFixture.Job("mobilenet", new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = 0.2, ["batchSize"] = 128, ["localEpochs"] = 1 }, maxRounds: 12, model);

        // Measured 0.622 after 12 rounds (diverged at η 0.4 on this subset).
        Assert.InRange(await TrainAsync(store, job), 0.45, 1.0);
        await AssertStateMovedAsync(store, "fashion-mobilenet", model);
    }
}
