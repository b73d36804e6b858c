using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Functions.Search;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>statemachines/search.asl.json on the local engine: trials are nested executions of the training machine
/// (startExecution.sync:2) through the real handlers and a folder store.</summary>
public sealed class SearchPipelineTests : IDisposable
{
    private const string DatasetKey = "datasets/demo-higgs.libsvm";
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-search-").FullName;
    private readonly string _data;

    public SearchPipelineTests()
    {
        // The demo's data (Higgs-shaped, 28 features, seed 42), at 20,000 rows.
        _data = Path.Combine(_root, "demo-higgs.libsvm");
        using var writer = new StreamWriter(_data);
        SyntheticData.WriteHiggsLike(writer, 20_000, 28, seed: 42);
    }

    private FileObjectStore NewStore()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("store-").FullName);
        using var file = File.OpenRead(_data);
        store.PutAsync(DatasetKey, file).GetAwaiter().GetResult();
        return store;
    }

    // The demo job with ADMM, whose step size and penalty the searches tune.
    private static JsonObject Job() => new()
    {
        ["name"] = "demo-admm",
        ["dataset"] = new JsonObject { ["path"] = DatasetKey, ["format"] = "libsvm", ["features"] = 28, ["partitions"] = 4, ["validationFraction"] = 0.1 },
        ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = 1e-4 },
        ["algorithm"] = new JsonObject { ["type"] = "admm", ["learningRate"] = 1.0, ["batchSize"] = 1000, ["localEpochs"] = 3, ["rho"] = 0.02 },
        ["stop"] = new JsonObject { ["maxRounds"] = 9, ["tolerance"] = 0 },
        ["seed"] = 42,
    };

    private static JsonObject Spec(string name, JsonNode strategy, JsonObject? parameters = null, JsonObject? budget = null, int maxConcurrency = 3) => new()
    {
        ["name"] = name,
        ["job"] = Job(),
        ["parameters"] = parameters ?? new JsonObject { ["algorithm.learningRate"] = new JsonArray(0.1, 0.3, 1.0), ["algorithm.rho"] = new JsonArray(0.002, 0.02, 0.2) },
        ["strategy"] = strategy,
        ["budget"] = budget ?? new JsonObject { ["rounds"] = 9 },
        ["maxConcurrency"] = maxConcurrency,
    };

    private static LocalPipeline Pipeline(IObjectStore store, Action<string>? called = null) => new(store, new LocalPipelineOptions
    {
        WaitTimeScale = 0, Concurrency = 4,
        WrapFunctions = called is null ? null : inner => new InterceptingInvoker(inner, before: (function, _) => { called(function); return Task.CompletedTask; }),
    });

    private static async Task<(SearchResult Result, TrialTable Table)> SearchAsync(LocalPipeline pipeline, IObjectStore store, JsonObject spec)
    {
        var execution = await pipeline.SearchAsync(spec.ToJsonString());
        Assert.True(execution.Status == "SUCCEEDED", $"{execution.Error}: {execution.Cause}");
        var result = JsonSerializer.Deserialize(execution.OutputJson!, SearchJson.Default.SearchResult)!;
        var table = JsonSerializer.Deserialize(await store.GetAsync(SearchLayout.Trials(result.SearchId)), SearchJson.Default.TrialTable)!;
        return (result, table);
    }

    [Fact]
    public async Task SuccessiveHalving_LearningRateAndRho_WithinHalfPercentOfBestGridPointInHalfTheRoundsPartitioningOnce()
    {
        var store = NewStore();
        var partitionCalls = 0;
        var pipeline = Pipeline(store, f => { if (f == "Partition") Interlocked.Increment(ref partitionCalls); });

        var (grid, gridTable) = await SearchAsync(pipeline, store, Spec("grid", "grid"));
        var (halving, halvingTable) = await SearchAsync(pipeline, store,
            Spec("halving", new JsonObject { ["type"] = "successive-halving", ["minRounds"] = 1, ["reduction"] = 3 }));

        // The grid trains 9 points for 9 rounds; halving 9 for 1, the best 3 on to 3, the best on to 9.
        Assert.Equal((9, 81), (grid.Trials, grid.TotalRounds));
        Assert.All(gridTable.Trials, t => Assert.Equal((9, "finished"), (t.Rounds, t.Status)));
        Assert.Equal([1, 3, 9], halvingTable.RungRounds);
        Assert.Equal(21, halving.TotalRounds);
        Assert.True(2 * halving.TotalRounds <= grid.TotalRounds);
        Assert.Equal([9, 3, 3, 1, 1, 1, 1, 1, 1], halvingTable.Trials.Select(t => t.Rounds).OrderDescending());
        var bestGrid = gridTable.Trials.Min(t => t.ValidationLoss!.Value);
        Assert.Equal(bestGrid, grid.Best!.ValidationLoss);
        Assert.Equal(9, halving.Best!.Rounds);
        Assert.True(halving.Best.ValidationLoss <= bestGrid * 1.005, $"halving {halving.Best.ValidationLoss} vs grid {bestGrid}");
        // The survivors of each rung are the best third of the rung before.
        var rung0 = halvingTable.Trials.OrderBy(t => t.Rungs[0].ValidationLoss).Select(t => t.Trial).Take(3).Order();
        Assert.Equal(rung0, halvingTable.Trials.Where(t => t.Rung >= 1).Select(t => t.Trial).Order());
        Assert.True(await store.ExistsAsync(halving.BestModelKey!));
        Assert.True(await store.ExistsAsync(halving.ReportKey));

        // 18 runs, one partition set, made once: as many Partition calls as one run on a fresh store makes.
        Assert.Equal(18, (await store.ListAsync("runs/")).Select(o => o.Key.Split('/')[1]).Distinct().Count());
        Assert.Single(await store.ListAsync("partitions/"), o => o.Key.EndsWith("/manifest.json", StringComparison.Ordinal));
        var single = 0;
        var fresh = NewStore();
        var job = Job();
        job["runId"] = "single";
        var run = await Pipeline(fresh, f => { if (f == "Partition") Interlocked.Increment(ref single); }).RunAsync(job.ToJsonString());
        Assert.True(run.Succeeded, run.Cause);
        Assert.True(single > 0);
        Assert.Equal(single, partitionCalls);
    }

    [Fact]
    public async Task Search_TrialFails_RecordedWithItsErrorAndSearchGoesOn()
    {
        var store = NewStore();
        var spec = Spec("failing", "grid", new JsonObject { ["dataset.path"] = new JsonArray(DatasetKey, "datasets/missing.libsvm") }, new JsonObject { ["rounds"] = 2 });

        var (result, table) = await SearchAsync(Pipeline(store), store, spec);

        Assert.Equal(["finished", "failed"], table.Trials.Select(t => t.Status));
        Assert.Contains("JobSpecException", table.Trials[1].Error);
        Assert.Contains("datasets/missing.libsvm", table.Trials[1].Error);
        Assert.Equal(0, result.Best!.Trial);
        Assert.Contains("failed: JobSpecException", await File.ReadAllTextAsync(Path.Combine(store.Root, result.ReportKey)));
    }

    [Fact]
    public async Task Search_DollarBudgetSpent_StartsNoFurtherBatch()
    {
        var store = NewStore();
        var spec = Spec("budget", "grid", new JsonObject { ["algorithm.rho"] = new JsonArray(0.002, 0.02, 0.2, 2.0) }, new JsonObject { ["rounds"] = 2, ["dollars"] = 1e-6 }, maxConcurrency: 1);

        var (result, table) = await SearchAsync(Pipeline(store), store, spec);

        Assert.Equal(["finished", "planned", "planned", "planned"], table.Trials.Select(t => t.Status));
        Assert.StartsWith("budget.dollars reached", result.StopReason);
        Assert.Equal(2, result.TotalRounds);
    }

    [Fact]
    public async Task Search_InvalidSpec_FailsWithSearchSpecExceptionNamingTheField()
    {
        var store = NewStore();
        var spec = Spec("bad", "grid", new JsonObject { ["algorithm.rho"] = new JsonArray(0.1, -1) });

        var execution = await Pipeline(store).SearchAsync(spec.ToJsonString());

        Assert.Equal("FAILED", execution.Status);
        Assert.Equal("SearchSpecException", execution.Error);
        Assert.Contains("parameters.algorithm.rho", execution.Cause);
        Assert.Empty(await store.ListAsync("runs/"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
