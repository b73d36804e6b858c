using System.Text;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>CIFAR-10 binary batches written by the test go through Prepare (shape and classes resolved), train a
/// small CNN, ResNet and MobileNet (the last two with the CIFAR augmentation: 4-pixel crop padding and flips), and the
/// test batch is evaluated by Finalize.</summary>
public sealed class CifarPipelineTests
{
    // Class c: channel c % 3 bright in a 16×16 quadrant chosen by c / 3, noise elsewhere.
    private static byte[] Batch(int records, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var bytes = new byte[records * 3073];
        for (var r = 0; r < records; r++)
        {
            var record = bytes.AsSpan(r * 3073, 3073);
            var c = rng.NextInt(4);
            record[0] = (byte)c;
            for (var i = 1; i < 3073; i++) record[i] = (byte)rng.NextInt(80);
            var (qy, qx) = (c / 2 * 16, c % 2 * 16);
            for (var y = qy; y < qy + 16; y++)
                for (var x = qx; x < qx + 16; x++) record[1 + (c % 3) * 1024 + y * 32 + x] = (byte)(150 + rng.NextInt(100));
        }
        return bytes;
    }

    [Fact]
    public async Task Cnn_CifarBatches_ResolvesShapeAndReportsTestAccuracy()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("cifar-store-").FullName);
        await store.PutAsync("datasets/data_batch_1.bin", Batch(480, 1));
        await store.PutAsync("datasets/test_batch.bin", Batch(100, 2));
        var job = new JsonObject
        {
            ["name"] = "cifar",
            ["runId"] = "cifar-cnn",
            ["dataset"] = new JsonObject { ["path"] = "datasets/data_batch_1.bin", ["testPath"] = "datasets/test_batch.bin", ["partitions"] = 2, ["validationFraction"] = 0.1 },
            ["model"] = new JsonObject { ["type"] = "cnn", ["channels"] = new JsonArray(4), ["l2"] = 0 },
            ["algorithm"] = new JsonObject { ["type"] = "ga-sgd", ["optimizer"] = "adam", ["learningRate"] = 0.01, ["batchSize"] = 16 },
            ["stop"] = new JsonObject { ["maxRounds"] = 25, ["tolerance"] = 0 },
        };

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var stored = JobSpecParser.Parse(Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Job("cifar-cnn"))));
        Assert.Equal(("cifar", 3072, 4), (stored.Dataset.Format, stored.Dataset.Features, stored.Model.Classes));
        Assert.Equal([32, 32, 3], stored.Model.InputShape);
        Assert.InRange(result.Summary!.TestAccuracy!.Value, 0.9, 1.0);
    }

    [Theory]
    [InlineData("resnet", 0.25, 25, 0.9)]       // measured 1.000 (4 classes: chance is 0.25)
    [InlineData("mobilenet", 0.125, 80, 0.55)]  // measured 0.740; 0.280 after 25 rounds
    public async Task DeepNetwork_CifarBatchesWithAugmentation_ReachesTestAccuracyBound(string type, double width, int rounds, double bound)
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("cifar-store-").FullName);
        await store.PutAsync("datasets/data_batch_1.bin", Batch(480, 1));
        await store.PutAsync("datasets/test_batch.bin", Batch(100, 2));
        var job = new JsonObject
        {
            ["name"] = "cifar",
            ["runId"] = "cifar-" + type,
            ["dataset"] = new JsonObject { ["path"] = "datasets/data_batch_1.bin", ["testPath"] = "datasets/test_batch.bin", ["partitions"] = 2, ["validationFraction"] = 0.1 },
            ["model"] = new JsonObject { ["type"] = type, ["depth"] = type == "resnet" ? 8 : null, ["widthMultiplier"] = width, ["cropPadding"] = 4, ["horizontalFlip"] = true, ["l2"] = 0 },
            ["algorithm"] = new JsonObject { ["type"] = "ga-sgd", ["optimizer"] = "adam", ["learningRate"] = 0.01, ["batchSize"] = 16, ["schedule"] = "cosine" },
            ["stop"] = new JsonObject { ["maxRounds"] = rounds, ["tolerance"] = 0 },
        };

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var stored = JobSpecParser.Parse(Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Job("cifar-" + type))));
        Assert.Equal([32, 32, 3], stored.Model.InputShape);
        Assert.Equal(4, stored.Model.Classes);
        Assert.InRange(result.Summary!.TestAccuracy!.Value, bound, 1.0);
    }
}
