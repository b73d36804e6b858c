using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Core.Data;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Datasets for the issue-4 linear and KMeans acceptance tests, written once per test class.</summary>
public sealed class ModelDataFixture : IDisposable
{
    public const string HiggsKey = "datasets/higgs-svm.libsvm";
    public const string SparseKey = "datasets/rcv1-small.libsvm";
    public const string BlobsKey = "datasets/blobs.libsvm";
    public const int SparseFeatures = 4000;
    public const int BlobFeatures = 5;
    public const int BlobClusters = 6;

    public ModelDataFixture()
    {
        Root = Directory.CreateTempSubdirectory("stepml-models-").FullName;
        Write(HiggsKey, w => SyntheticData.WriteHiggsLike(w, 16_000, 12, seed: 21));
        Write(SparseKey, w => SyntheticData.WriteRcv1Like(w, 8_000, SparseFeatures, density: 0.01, seed: 22));
        Write(BlobsKey, w => SyntheticData.WriteBlobs(w, 20_000, BlobFeatures, BlobClusters, seed: 23));
    }

    public string Root { get; }

    private void Write(string key, Action<TextWriter> write)
    {
        using var writer = new StreamWriter(Path.Combine(Root, Path.GetFileName(key)));
        write(writer);
    }

    public FileObjectStore NewStore()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("store-").FullName);
        foreach (var key in new[] { HiggsKey, SparseKey, BlobsKey })
        {
            using var file = File.OpenRead(Path.Combine(Root, Path.GetFileName(key)));
            store.PutAsync(key, file).GetAwaiter().GetResult();
        }
        return store;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Issue 4 acceptance for the linear SVM, the sparse linear models and KMeans, through the real state machine on the
/// local engine with fixed seeds. The linear references are <see cref="LinearOptimum"/> on the run's own training
/// partitions and the same objective F = mean loss + (λ/2)‖w‖² (bias free): L-BFGS to a 1e-9 gradient for logistic
/// and squared hinge, and for hinge dual coordinate descent to a 1e-7 projected-gradient spread followed by an exact
/// line search over the bias. A reference is a feasible point, so the run's F may come out a hair below it; the
/// bounds allow 0.1% there and 1% above.
/// </summary>
public sealed class ModelConvergenceTests(ModelDataFixture fixture) : IClassFixture<ModelDataFixture>
{
    private const double L2 = 1e-3;

    [Theory]
    [InlineData("svm-hinge-dense", "admm", 0.05, 100, 3, 0.05, 60)]
    [InlineData("svm-hinge-dense", "ma-sgd", 0.1, 100, 4, 0, 60)]
    [InlineData("svm-squared-dense", "admm", 0.05, 500, 4, 0.1, 60)]
    [InlineData("svm-squared-dense", "ma-sgd", 0.03, 200, 4, 0, 60)]
    [InlineData("logistic-sparse", "admm", 2.0, 100, 3, 0.02, 40)]
    [InlineData("logistic-sparse", "ma-sgd", 2.0, 100, 2, 0, 40)]
    [InlineData("svm-hinge-sparse", "admm", 2.0, 100, 3, 0.02, 150)]
    [InlineData("svm-hinge-sparse", "ma-sgd", 2.0, 100, 2, 0, 60)]
    [InlineData("svm-squared-dense", "ga-sgd", 0.05, 0, 1, 0, 150)]
    [InlineData("svm-hinge-sparse", "ga-sgd", 4.0, 0, 1, 0, 150)]
    [InlineData("svm-hinge-dense", "cocoa", 1.0, 0, 2, 0, 20)]
    [InlineData("svm-squared-dense", "cocoa", 1.0, 0, 2, 0, 20)]
    [InlineData("logistic-sparse", "cocoa", 1.0, 0, 1, 0, 10)]
    [InlineData("svm-hinge-sparse", "cocoa", 1.0, 0, 1, 0, 10)]
    public async Task Train_LinearModel_EndsWithinOnePercentOfOptimum(string problem, string algorithm, double learningRate, int batchSize, int localEpochs, double rho, int maxRounds)
    {
        var store = fixture.NewStore();
        var (type, loss, sparse) = problem switch
        {
            "svm-hinge-dense" => ("svm", "hinge", false),
            "svm-squared-dense" => ("svm", "squared-hinge", false),
            "logistic-sparse" => ("logistic", "hinge", true),
            _ => ("svm", "hinge", true),
        };
        var algorithmSpec = new JsonObject { ["type"] = algorithm, ["learningRate"] = learningRate, ["batchSize"] = batchSize, ["localEpochs"] = localEpochs };
        if (rho > 0) algorithmSpec["rho"] = rho;
        if (algorithm == "ga-sgd") algorithmSpec["momentum"] = 0.9;
        var job = LinearJob(type, loss, sparse, algorithmSpec, maxRounds);

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var parts = await PartitionsAsync(store, "linear-run", 4);
        Assert.Equal(sparse, parts[0].IsSparse);
        var reference = LinearOptimum.Solve(parts, type == "logistic" ? LinearLoss.Logistic : loss == "hinge" ? LinearLoss.Hinge : LinearLoss.SquaredHinge, L2);
        var gap = (result.Summary!.TrainLoss - reference.Objective) / reference.Objective;
        Assert.InRange(gap, -1e-3, 0.01);
    }

    [Theory]
    [InlineData(false, null, 1)]
    [InlineData(true, null, 1)]
    [InlineData(false, new[] { 1.0, 4.0, 16.0, 64.0 }, 1)]
    [InlineData(true, new[] { 1.0, 4.0, 16.0, 64.0 }, 4)]
    public async Task Train_KMeans_InertiaWithinOnePercentOfLloyd(bool sparse, double[]? weights, int shards)
    {
        var store = fixture.NewStore();
        var job = KMeansJob(sparse, weights, shards);

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Status}: {result.Error} {result.Cause}");
        var parts = await PartitionsAsync(store, "kmeans-run", 4);
        if (weights is not null)
        {
            // The partitions really are of very different sizes (expected shares 1:4:16:64 of the rows).
            Assert.True(parts[3].Rows > 30 * parts[0].Rows, $"partition sizes {string.Join(", ", parts.Select(p => p.Rows))}");
        }
        var initial = await TensorAsync(store, RunLayout.Model("kmeans-run", 0));
        var lloyd = Lloyd.Run(parts, initial, ModelDataFixture.BlobClusters);
        var final = await TensorAsync(store, RunLayout.FinalModel("kmeans-run"));
        var inertia = Lloyd.MeanInertia(parts, final, ModelDataFixture.BlobClusters);
        Assert.InRange((inertia - lloyd.MeanInertia) / lloyd.MeanInertia, -0.01, 0.01);
        // Distributed EM performs Lloyd's iterations exactly (up to float rounding) when every partition weighs by its
        // rows; averaging the partitions' means instead would move the centroids of the 1:64 split far more than this.
        var shift = final.Zip(lloyd.Centroids, (a, b) => Math.Abs(a - b)).Max();
        Assert.InRange(shift, 0, 1e-2);
        Assert.InRange((result.Summary!.TrainLoss - inertia) / inertia, -1e-4, 1e-4);
    }

    private static async Task<float[]> TensorAsync(IObjectStore store, string key) =>
        TensorCodec.Decode(await store.GetAsync(key), key, out _);

    private static async Task<List<Partition>> PartitionsAsync(IObjectStore store, string runId, int partitions)
    {
        var parts = new List<Partition>();
        for (var p = 0; p < partitions; p++)
            parts.Add(Partition.Decode(await store.GetAsync(await RunData.PartitionKeyAsync(store, runId, p)), $"partition {p}"));
        return parts;
    }

    private static JsonObject LinearJob(string type, string loss, bool sparse, JsonObject algorithm, int maxRounds) => new()
    {
        ["name"] = "linear",
        ["runId"] = "linear-run",
        ["dataset"] = new JsonObject
        {
            ["path"] = sparse ? ModelDataFixture.SparseKey : ModelDataFixture.HiggsKey,
            ["partitions"] = 4,
            ["validationFraction"] = 0.1,
            ["sparse"] = sparse,
            ["features"] = sparse ? ModelDataFixture.SparseFeatures : 12,
        },
        ["model"] = new JsonObject { ["type"] = type, ["l2"] = L2, ["loss"] = loss },
        ["algorithm"] = algorithm,
        ["stop"] = new JsonObject { ["maxRounds"] = maxRounds, ["tolerance"] = 0 },
        ["seed"] = 5,
    };

    private static JsonObject KMeansJob(bool sparse, double[]? weights, int shards)
    {
        var dataset = new JsonObject
        {
            ["path"] = ModelDataFixture.BlobsKey,
            ["partitions"] = 4,
            ["validationFraction"] = 0.1,
            ["sparse"] = sparse,
        };
        if (weights is not null) dataset["partitionWeights"] = new JsonArray(weights.Select(w => (JsonNode)w).ToArray());
        return new JsonObject
        {
            ["name"] = "kmeans",
            ["runId"] = "kmeans-run",
            ["dataset"] = dataset,
            ["model"] = new JsonObject { ["type"] = "kmeans", ["clusters"] = ModelDataFixture.BlobClusters },
            ["algorithm"] = new JsonObject { ["type"] = "kmeans-em" },
            // Scatter-reduce shards split the (sum, count) pairs with the model: stride 2 must keep them together.
            ["communication"] = new JsonObject { ["pattern"] = shards > 1 ? "scatter-reduce" : "all-reduce", ["shards"] = shards },
            ["stop"] = new JsonObject { ["maxRounds"] = 50, ["tolerance"] = 0, ["modelTolerance"] = 1e-6 },
            ["seed"] = 7,
        };
    }
}
