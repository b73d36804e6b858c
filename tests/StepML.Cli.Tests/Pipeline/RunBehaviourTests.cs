using System.Text;
using System.Text.Json.Nodes;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

public sealed class RunBehaviourTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static async Task<Dictionary<string, byte[]>> ModelsAsync(IObjectStore store, string runId)
    {
        var models = new Dictionary<string, byte[]>();
        foreach (var o in await store.ListAsync($"runs/{runId}/model/"))
            if (o.Key.EndsWith(".tensor", StringComparison.Ordinal))
                models[o.Key] = await store.GetAsync(o.Key);
        return models;
    }

    private static void AssertSameModels(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs");
    }

    [Fact]
    public async Task Run_SameJobTwice_GivesBitIdenticalModels()
    {
        var first = fixture.NewStore();
        var second = fixture.NewStore();
        var job = PipelineFixture.Job("admm", shards: 4, maxRounds: 6);

        var a = await PipelineFixture.RunAsync(first, job);
        var b = await PipelineFixture.RunAsync(second, job);

        Assert.True(a.Succeeded && b.Succeeded);
        var models = await ModelsAsync(first, "test-run");
        Assert.Equal(8, models.Count); // rounds 0..6 and final
        AssertSameModels(models, await ModelsAsync(second, "test-run"));
    }

    [Theory]
    [InlineData("admm")]
    [InlineData("ga-sgd")]
    public async Task Run_WorkersFinishInShuffledOrder_GivesTheSameModel(string algorithm)
    {
        var ordered = fixture.NewStore();
        var shuffled = fixture.NewStore();
        var job = PipelineFixture.Job(algorithm, shards: 2, maxRounds: 5);
        var finishOrder = new List<int>();

        var a = await PipelineFixture.RunAsync(ordered, job, new LocalPipelineOptions { Concurrency = 1 });
        var b = await PipelineFixture.RunAsync(shuffled, job, ShuffledWorkers.Options(seed: 3, finishOrder));

        Assert.True(a.Succeeded && b.Succeeded);
        // The delays really reordered completions in at least one round (otherwise this test proves nothing).
        var rounds = finishOrder.Chunk(4).ToList();
        Assert.Contains(rounds, r => !r.SequenceEqual(r.Order()));
        AssertSameModels(await ModelsAsync(ordered, "test-run"), await ModelsAsync(shuffled, "test-run"));
    }

    [Fact]
    public async Task Run_CorruptedStatistic_FailsWithChecksumErrorAndKeepsPreviousModel()
    {
        var clean = fixture.NewStore();
        await PipelineFixture.RunAsync(clean, PipelineFixture.Job("ma-sgd", maxRounds: 4));
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ma-sgd", maxRounds: 4), new LocalPipelineOptions
        {
            WrapFunctions = inner => new InterceptingInvoker(inner, after: async (function, input) =>
            {
                if (function != "Worker" || input["round"]!.GetValue<long>() != 2 || input["partition"]!.GetValue<int>() != 1) return;
                var key = RunLayout.Statistic("test-run", 2, 1);
                var bytes = await store.GetAsync(key);
                bytes[64 + 5] ^= 0x10; // one bit of the first block's payload
                await store.PutAsync(key, bytes);
            }),
        });

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("TensorChecksumException", result.Error);
        Assert.Contains("rounds/2/stats/1.tensor", StepML.Cli.Commands.RunCommand.CauseMessage(result.Cause));
        Assert.False(await store.ExistsAsync(RunLayout.Model("test-run", 3)));
        Assert.Equal(await clean.GetAsync(RunLayout.Model("test-run", 2)), await store.GetAsync(RunLayout.Model("test-run", 2)));
        var failure = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Failure("test-run")));
        Assert.Contains("TensorChecksumException", failure);
    }

    [Fact]
    public async Task Run_RoundsPerExecutionTwo_ContinuesAsNewAndGivesTheSameModel()
    {
        var single = fixture.NewStore();
        var chained = fixture.NewStore();
        var job = PipelineFixture.Job("admm", maxRounds: 5);
        var chainedJob = PipelineFixture.Job("admm", maxRounds: 5);
        chainedJob["stop"]!["roundsPerExecution"] = 2;

        var a = await PipelineFixture.RunAsync(single, job);
        var b = await PipelineFixture.RunAsync(chained, chainedJob);

        Assert.True(a.Succeeded && b.Succeeded, $"{b.Error} {b.Cause}");
        Assert.Single(a.Executions);
        Assert.Equal(3, b.Executions.Count); // rounds 0-1, 2-3, 4
        Assert.Equal(5, b.Summary!.Rounds);
        Assert.Equal(await single.GetAsync(RunLayout.FinalModel("test-run")), await chained.GetAsync(RunLayout.FinalModel("test-run")));
        var history = (await RunHistory.ReadAsync(chained, "test-run"))!;
        Assert.Equal(3, history["executions"]!.AsArray().Count);
    }

    [Theory]
    [InlineData(30, "SUCCEEDED")]
    [InlineData(0, "FAILED")]
    public async Task Run_OneWorkerAlwaysFails_ToleratedFailurePercentageDecides(double tolerated, string expected)
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ma-sgd", maxRounds: 3);
        job["workers"] = new JsonObject { ["toleratedFailurePercentage"] = tolerated };

        var result = await PipelineFixture.RunAsync(store, job, new LocalPipelineOptions
        {
            WrapFunctions = inner => new InterceptingInvoker(inner, before: (function, input) =>
                function == "Worker" && input["partition"]!.GetValue<int>() == 3
                    ? throw new InjectedFaultException("partition 3 crashed")
                    : Task.CompletedTask),
        });

        Assert.Equal(expected, result.Status);
        if (expected == "SUCCEEDED")
        {
            var metrics = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, metrics.Length);
            Assert.All(metrics, line => Assert.Equal(1, JsonNode.Parse(line)!["failedWorkers"]!.GetValue<int>()));
        }
        else
        {
            Assert.Equal("States.ExceedToleratedFailureThreshold", result.Error);
        }
    }

    [Fact]
    public async Task Run_MalformedLibSvmLine_FailsNamingFileAndLine()
    {
        var store = fixture.NewStore();
        await store.PutAsync("datasets/bad.libsvm", Encoding.UTF8.GetBytes("1 1:0.5 2:0.25\n0 1:0.1 2:0.2\n1 1:0.3 2:oops\n"));
        var job = PipelineFixture.Job("admm");
        job["dataset"]!["path"] = "datasets/bad.libsvm";

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("DatasetFormatException", result.Error);
        Assert.Contains("datasets/bad.libsvm:3", StepML.Cli.Commands.RunCommand.CauseMessage(result.Cause));
    }

    [Fact]
    public async Task Run_BadJobField_FailsNamingTheFieldAndTheFix()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("admm");
        job["algorithm"]!["type"] = "adm";

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("JobSpecException", result.Error);
        var message = StepML.Cli.Commands.RunCommand.CauseMessage(result.Cause);
        Assert.Contains("algorithm.type", message);
        Assert.Contains("did you mean \"admm\"", message);
        Assert.Null(result.RunId);
    }

    [Fact]
    public async Task Run_Succeeds_WritesHistoryAndMetricsPerRound()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 3));

        Assert.True(result.Succeeded);
        var history = (await RunHistory.ReadAsync(store, "test-run"))!;
        var events = history["executions"]![0]!["events"]!.AsArray();
        Assert.Equal("ExecutionStarted", events[0]!["type"]!.GetValue<string>());
        Assert.Equal("ExecutionSucceeded", events[^1]!["type"]!.GetValue<string>());
        Assert.Equal(3, events.Count(e => e!["type"]!.GetValue<string>() == "TaskStateEntered" && e["stateEnteredEventDetails"]!["name"]!.GetValue<string>() == "Decide"));
        var metrics = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([0L, 1L, 2L], metrics.Select(l => JsonNode.Parse(l)!["round"]!.GetValue<long>()));
        Assert.True(await store.ExistsAsync(RunLayout.Report("test-run")));
    }
}
