using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Cli.Bench;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>The run's cost breakdown against what the run did: transitions against a hand count from the ASL and the
/// engine's history, S3 requests against the requests the store saw.</summary>
public sealed class CostAccountingTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static JsonObject ThreeRounds()
    {
        var job = PipelineFixture.Job("ga-sgd", shards: 1, maxRounds: 3, runId: "cost-run", partitions: 2);
        job["algorithm"]!["momentum"] = 0;
        return job;
    }

    [Fact]
    public async Task Run_ThreeRoundsFreshStore_TransitionsEqualHandCountAndHistory()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, ThreeRounds());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        // Hand count from statemachines/train.asl.json, one execution:
        //   Prepare, Skip?, Partitioned?, Synchronization? (after Commit)                        4
        //   Partition (Map) + 1 range child (EXPRESS; the 24,000-row file is one 64 MiB range)   2
        //   Summarize, Assemble (Map)                                                            2
        //   3 output children (2 partitions + validation; STANDARD: started, enters AssembleOutput) 6
        //   Commit                                                                               1
        //   3 rounds × (Workers + 2 children + Aggregation? + Merge + MergeShard + Decide + Converged?) 3 × 8
        //   Finalize                                                                             1
        const int handCount = 4 + 2 + 2 + 6 + 1 + 3 * 8 + 1;
        Assert.Equal(40, handCount);
        var summary = result.Summary!;
        Assert.Equal(handCount, summary.Cost!.Transitions);

        // The engine's history: every state entered (the children's too), plus one transition per state a STANDARD
        // child enters (its start is already counted by the Map's child-execution entry): AssembleOutput.
        var entered = await StatesEnteredAsync(store, summary.RunId);
        Assert.Equal(handCount, entered.Count + entered.Count(name => name == "AssembleOutput"));
    }

    [Fact]
    public async Task Run_Finished_FinalJsonHasTheBreakdown()
    {
        var store = fixture.NewStore();

        var result = await PipelineFixture.RunAsync(store, ThreeRounds());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var final = JsonNode.Parse(await store.GetAsync($"runs/{result.RunId}/model/final.json"))!;
        var cost = final["cost"]!;
        Assert.Equal(final["costUsd"]!.GetValue<double>(), cost["totalUsd"]!.GetValue<double>(), 12);
        var functions = cost["lambda"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        Assert.Equal(["Decide", "Finalize", "Merge", "Partition", "Prepare", "Worker"], functions.Keys.Order());
        Assert.Equal(6, functions["Worker"]["invocations"]!.GetValue<long>());
        Assert.Equal(1769, functions["Merge"]["memoryMb"]!.GetValue<int>());
        Assert.Equal(512, functions["Decide"]["memoryMb"]!.GetValue<int>());
        Assert.Equal(7, cost["expressExecutions"]!.GetValue<long>());
        var parts = cost["lambdaUsd"]!.GetValue<double>() + cost["s3Usd"]!.GetValue<double>() + cost["transitionsUsd"]!.GetValue<double>()
                    + cost["expressUsd"]!.GetValue<double>() + cost["channelUsd"]!.GetValue<double>();
        Assert.Equal(cost["totalUsd"]!.GetValue<double>(), parts, 12);
        var report = System.Text.Encoding.UTF8.GetString(await store.GetAsync($"runs/{result.RunId}/report.html"));
        Assert.Contains("Lambda Merge (1769 MB)", report, StringComparison.Ordinal);
        Assert.Contains("40 transitions", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SteadyRound_RecordedS3RequestsEqualTheStoresCount()
    {
        var folder = Directory.CreateTempSubdirectory("stepml-cost-");
        var store = new CountingObjectStore(new FileObjectStore(folder.FullName));
        await using (var file = File.OpenRead(fixture.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions
        {
            WrapFunctions = inner => new StorageRequestBenchmark.TaggingInvoker(inner),
            Ledger = new StepML.Storage.Ledger.FolderRunLedger(Path.Combine(folder.FullName, "ledger")),
            WaitTimeScale = 0,
        });
        var boundaries = new List<int>();
        pipeline.Prepared += _ => boundaries.Add(store.Count);
        pipeline.RoundCompleted += _ => boundaries.Add(store.Count);

        var result = await pipeline.RunAsync(ThreeRounds().ToJsonString());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        // Round 2: the caches are warm (round 0 also reads job.json and the partitions).
        var steady = store.Slice(boundaries[2], boundaries[3]).Where(r => r.Function is "Worker" or "Merge" or "Decide").ToList();
        var record = JsonSerializer.Deserialize(await store.GetAsync($"runs/{result.RunId}/records/2.json"), ContractJson.Default.RoundRecord)!;
        var usage = record.Metrics.Usage!;
        Assert.Equal(steady.Count(r => r.Kind is StoreRequestKind.Get or StoreRequestKind.RangedGet or StoreRequestKind.OpenRead), usage.S3Gets);
        Assert.Equal(steady.Count(r => r.Kind is StoreRequestKind.Put), usage.S3Puts);
        folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Run_Async_TransitionsAndWorkerInvocationsEqualHandCountAndHistory()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ga-sgd", maxRounds: 5, runId: "cost-async", partitions: 2);
        job["communication"]!["synchronization"] = "async";

        // A budget spent after the first update: each AsyncWork invocation applies one, so each worker is invoked 5 times.
        var result = await PipelineFixture.RunAsync(store, job, new LocalPipelineOptions { WorkerRoundSeconds = 1e-6 });

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        // Hand count, one execution: the start (4) and the partitioning of 2 partitions (11) as above; then
        //   AsyncWorkers + 2 STANDARD children × (start + AsyncStart + 5 × (AsyncWork + AsyncDone?) + AsyncEnd) + Decide + Converged?
        //   Finalize
        const int handCount = 4 + 11 + 1 + 2 * (3 + 2 * 5) + 2 + 1;
        var summary = result.Summary!;
        Assert.Equal(handCount, summary.Cost!.Transitions);
        var entered = await StatesEnteredAsync(store, summary.RunId);
        Assert.Equal(handCount, entered.Count + entered.Count(name => name is "AssembleOutput" or "AsyncStart"));

        var final = JsonNode.Parse(await store.GetAsync($"runs/{result.RunId}/model/final.json"))!;
        var functions = final["cost"]!["lambda"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        Assert.Equal(entered.Count(name => name == "AsyncWork"), functions["Worker"]["invocations"]!.GetValue<long>());
        Assert.Equal(10, functions["Worker"]["invocations"]!.GetValue<long>());
        Assert.True(functions["Worker"]["seconds"]!.GetValue<double>() > 0);
        Assert.Equal(1, functions["Decide"]["invocations"]!.GetValue<long>());
    }

    private static async Task<List<string>> StatesEnteredAsync(IObjectStore store, string runId)
    {
        var names = new List<string>();
        foreach (var segment in await store.ListAsync($"runs/{runId}/history/"))
        {
            var document = JsonNode.Parse(await store.GetAsync(segment.Key))!;
            foreach (var e in document["events"]!.AsArray())
                if (e!["type"]!.GetValue<string>().EndsWith("StateEntered", StringComparison.Ordinal))
                    names.Add(e["stateEnteredEventDetails"]!["name"]!.GetValue<string>());
        }
        return names;
    }
}
