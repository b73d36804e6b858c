using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Core.Data;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>A Higgs-shaped dataset written once per test class, and helpers to run jobs on fresh stores.</summary>
public sealed class PipelineFixture : IDisposable
{
    public const int Rows = 24_000;
    public const int Features = 12;
    public const string DatasetKey = "datasets/higgs-test.libsvm";

    public PipelineFixture()
    {
        Root = Directory.CreateTempSubdirectory("stepml-pipeline-").FullName;
        DatasetFile = Path.Combine(Root, "higgs-test.libsvm");
        using var writer = new StreamWriter(DatasetFile);
        SyntheticData.WriteHiggsLike(writer, Rows, Features, seed: 11);
    }

    public string Root { get; }
    public string DatasetFile { get; }

    /// <summary>A new, empty store holding only the dataset.</summary>
    public FileObjectStore NewStore()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("store-").FullName);
        using var file = File.OpenRead(DatasetFile);
        store.PutAsync(DatasetKey, file).GetAwaiter().GetResult();
        return store;
    }

    public static JsonObject Job(string algorithm, int shards = 1, int maxRounds = 40, string runId = "test-run", int partitions = 4) => new()
    {
        ["name"] = "acceptance",
        ["runId"] = runId,
        ["dataset"] = new JsonObject { ["path"] = DatasetKey, ["partitions"] = partitions, ["validationFraction"] = 0.1 },
        ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = 1e-3 },
        ["algorithm"] = algorithm switch
        {
            "admm" => new JsonObject { ["type"] = "admm", ["rho"] = 0.02, ["localEpochs"] = 3, ["learningRate"] = 1.0, ["batchSize"] = 500 },
            "ma-sgd" => new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = 0.5, ["batchSize"] = 500, ["localEpochs"] = 2 },
            "ga-sgd" => new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = 1.0, ["momentum"] = 0.8, ["batchSize"] = 0 },
            "newton" => new JsonObject { ["type"] = "newton" },
            "cocoa" => new JsonObject { ["type"] = "cocoa", ["localEpochs"] = 2 },
            _ => throw new ArgumentException(algorithm),
        },
        ["communication"] = new JsonObject { ["channel"] = "s3", ["pattern"] = shards > 1 ? "scatter-reduce" : "all-reduce", ["shards"] = shards },
        ["stop"] = new JsonObject { ["maxRounds"] = maxRounds, ["tolerance"] = 0 },
        ["seed"] = 5,
    };

    public static async Task<PipelineResult> RunAsync(IObjectStore store, JsonObject job, LocalPipelineOptions? options = null)
    {
        options ??= new LocalPipelineOptions();
        // A store other than a folder has no default run ledger: tests that bring none get a fresh folder ledger.
        if (options.Ledger is null && store is not FileObjectStore)
            options = options with { Ledger = new StepML.Storage.Ledger.FolderRunLedger(Directory.CreateTempSubdirectory("stepml-ledger-").FullName) };
        var pipeline = new LocalPipeline(store, options with { WaitTimeScale = 0, Concurrency = 4 });
        return await pipeline.RunAsync(job.ToJsonString());
    }

    /// <summary>The exact optimum of the same objective over the run's training partitions (Newton).</summary>
    public static async Task<double> OptimumAsync(IObjectStore store, string runId, int partitions, double l2)
    {
        var parts = new List<Partition>();
        for (var p = 0; p < partitions; p++)
            parts.Add(Partition.Decode(await store.GetAsync(await RunData.PartitionKeyAsync(store, runId, p)), "p"));
        return LogisticOptimum.Solve(parts, l2).Objective;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
