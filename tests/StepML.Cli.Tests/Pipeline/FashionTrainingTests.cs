using System.Text;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Storage;
using Xunit.Abstractions;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Issue 4 acceptance, CI size: softmax, MLP (GA-SGD and MA-SGD) and CNN train on 6,000 Fashion-MNIST images in 8 partitions
/// through the real state machine, and Finalize reports accuracy on 1,000 held-out test images. The full-size runs
/// are examples/fashion-*.json (see README).</summary>
public sealed class FashionTrainingTests(FashionFixture fixture, ITestOutputHelper output) : IClassFixture<FashionFixture>
{
    private async Task<FinalSummaryView> TrainAsync(IObjectStore store, JsonObject job)
    {
        var result = await PipelineFixture.RunAsync(store, job);
        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var summary = result.Summary!;
        Assert.NotNull(summary.TestAccuracy);
        output.WriteLine($"{job["name"]}: test accuracy {summary.TestAccuracy:F4}, validation {summary.ValidationAccuracy:F4}, {summary.Rounds} rounds, {summary.ElapsedSeconds:F1} s ({(fixture.Installed ? "Fashion-MNIST subset" : "generated images")})");
        return new FinalSummaryView(summary.TestAccuracy!.Value, summary.TestLoss!.Value, summary.ValidationAccuracy ?? double.NaN);
    }

    private sealed record FinalSummaryView(double TestAccuracy, double TestLoss, double ValidationAccuracy);

    [Fact]
    public async Task Softmax_GaSgdMomentum_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var job = FashionFixture.Job("softmax", new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 0.05, ["momentum"] = 0.9, ["batchSize"] = 32 }, maxRounds: 120);

        var summary = await TrainAsync(store, job);

        Assert.InRange(summary.TestAccuracy, 0.78, 1.0);
        // Prepare resolved the class count and wrote it to job.json.
        var stored = JobSpecParser.Parse(Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Job("fashion-softmax"))));
        Assert.Equal(10, stored.Model.Classes);
        Assert.Equal([28, 28, 1], stored.Model.InputShape);
    }

    [Fact]
    public async Task Mlp_MaSgd_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var job = FashionFixture.Job("mlp", new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = 0.1, ["batchSize"] = 16, ["localEpochs"] = 3 }, maxRounds: 8,
            new JsonObject { ["hidden"] = new JsonArray(64) });

        var summary = await TrainAsync(store, job);

        Assert.InRange(summary.TestAccuracy, 0.80, 1.0);
    }

    [Fact]
    public async Task Mlp_GaSgdMomentum_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var job = FashionFixture.Job("mlp", new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 0.05, ["momentum"] = 0.9, ["batchSize"] = 32 }, maxRounds: 150,
            new JsonObject { ["hidden"] = new JsonArray(64) });

        var summary = await TrainAsync(store, job);

        Assert.InRange(summary.TestAccuracy, 0.78, 1.0);
    }

    [Fact]
    public async Task Cnn_GaSgdAdam_ReachesTestAccuracyBound()
    {
        var store = fixture.NewStore();
        var job = FashionFixture.Job("cnn", new JsonObject { ["type"] = "ga-sgd", ["optimizer"] = "adam", ["learningRate"] = 0.003, ["batchSize"] = 16 }, maxRounds: 60,
            new JsonObject { ["channels"] = new JsonArray(4, 8) }, validationFraction: 0.01);

        var summary = await TrainAsync(store, job);

        Assert.InRange(summary.TestAccuracy, 0.74, 1.0);
        // Adam keeps (m, v) per parameter: the optimizer state is twice the model.
        var model = await store.GetAsync(RunLayout.Model("fashion-cnn", 1));
        var optimizer = await store.GetAsync((await store.ListAsync(RunLayout.Rounds("fashion-cnn"))).First(o => o.Key.Contains("/optimizer/", StringComparison.Ordinal)).Key);
        Assert.InRange(optimizer.Length, 2 * model.Length - 200, 2 * model.Length + 200);
    }
}
