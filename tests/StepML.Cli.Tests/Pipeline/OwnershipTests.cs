using System.Text;
using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Storage;
using StepML.Storage.Ledger;
using StepML.Storage.S3;
using StepML.Storage.Tests.Ledger;
using StepML.Storage.Tests.S3;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>One owner per run, through the real state machine: two executions on one run id (the lost
/// metrics), per-round records, resume after a failure and raising stop.maxRounds; on the folder store with its
/// folder ledger and on S3 (s3rver) with the DynamoDB ledger (dynalite).</summary>
public sealed class OwnershipTests(PipelineFixture data, S3rverFixture s3, DynaliteFixture dynamo)
    : IClassFixture<PipelineFixture>, IClassFixture<S3rverFixture>, IClassFixture<DynaliteFixture>
{
    private async Task<(IObjectStore Store, IRunLedger Ledger)> S3WithDynamoAsync()
    {
        var store = new S3ObjectStore(s3.Client, S3StoreLocation.Parse($"s3://{s3.CreateBucket()}?endpoint={s3.Endpoint}"));
        await using (var file = File.OpenRead(data.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        return (store, new DynamoDbRunLedger(dynamo.Client, dynamo.CreateTable()));
    }

    private static async Task AssertOneRefusedOneCompleteAsync(IObjectStore store, IRunLedger? ledger)
    {
        var job = PipelineFixture.Job("admm", maxRounds: 12);
        var options = new LocalPipelineOptions { Ledger = ledger };

        var results = await Task.WhenAll(PipelineFixture.RunAsync(store, job, options), PipelineFixture.RunAsync(store, job, options));

        var winner = Assert.Single(results, r => r.Succeeded);
        var loser = Assert.Single(results, r => !r.Succeeded);
        Assert.Equal(nameof(RunOwnedException), loser.Error);
        var owner = (await (ledger ?? new FolderRunLedger(Path.Combine(((FileObjectStore)store).Root, "ledger"))).ReadAsync("test-run"))!;
        Assert.Contains(owner.Owner, loser.Cause);
        Assert.Equal(winner.Executions[0].ExecutionArn, owner.Owner);
        Assert.Equal(RunStatus.Finished, owner.Status);
        var metrics = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 12).Select(r => (long)r), metrics.Select(l => JsonNode.Parse(l)!["round"]!.GetValue<long>()));
        Assert.Equal(12, (await store.ListAsync(RunLayout.Records("test-run"))).Count);
        Assert.False(await store.ExistsAsync(RunLayout.Failure("test-run")));
        Assert.Single((await RunHistory.ReadAsync(store, "test-run"))!["executions"]!.AsArray());
    }

    [Fact]
    public async Task Run_TwoExecutionsOnOneRunIdOnFolderStore_OneRefusedNamingOwnerOtherComplete()
    {
        await AssertOneRefusedOneCompleteAsync(data.NewStore(), ledger: null);
    }

    [Fact]
    public async Task Run_TwoExecutionsOnOneRunIdOnS3WithDynamoLedger_OneRefusedNamingOwnerOtherComplete()
    {
        var (store, ledger) = await S3WithDynamoAsync();

        await AssertOneRefusedOneCompleteAsync(store, ledger);
    }

    [Fact]
    public async Task Run_SameRunIdAfterItFinished_RefusedAndRunUntouched()
    {
        var store = data.NewStore();
        await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 2));
        var final = await store.GetAsync(RunLayout.FinalModel("test-run"));

        var again = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 2));

        Assert.Equal(nameof(RunOwnedException), again.Error);
        Assert.Contains("stepml resume test-run", again.Cause);
        Assert.Equal(final, await store.GetAsync(RunLayout.FinalModel("test-run")));
    }

    [Fact]
    public async Task Run_OnS3WithoutLedger_RefusedBeforeAnythingRuns()
    {
        var store = new S3ObjectStore(s3.Client, S3StoreLocation.Parse($"s3://{s3.CreateBucket()}?endpoint={s3.Endpoint}"));

        var e = Assert.Throws<ArgumentException>(() => new LocalPipeline(store));

        Assert.Contains("--ledger dynamodb://TABLE", e.Message);
    }

    [Fact]
    public async Task Resume_AfterStopRuleWithHigherMaxRounds_BitIdenticalToOneLongRunOnS3AndDynamo()
    {
        var (store, ledger) = await S3WithDynamoAsync();
        var folder = data.NewStore();
        var options = new LocalPipelineOptions { Ledger = ledger };

        var shortRun = await PipelineFixture.RunAsync(store, PipelineFixture.Job("ga-sgd", maxRounds: 4), options);
        var resumed = await PipelineFixture.RunAsync(store, Resume("test-run", maxRounds: 9), options);
        var longRun = await PipelineFixture.RunAsync(folder, PipelineFixture.Job("ga-sgd", maxRounds: 9));

        Assert.True(shortRun.Succeeded && resumed.Succeeded && longRun.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        Assert.Equal(9, resumed.Summary!.Rounds);
        Assert.Equal(await folder.GetAsync(RunLayout.FinalModel("test-run")), await store.GetAsync(RunLayout.FinalModel("test-run")));
        Assert.Equal(Encoding.UTF8.GetString(await folder.GetAsync(RunLayout.Metrics("test-run"))).Split('\n').Length,
            Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run"))).Split('\n').Length);
        Assert.Equal(2, (await RunHistory.ReadAsync(store, "test-run"))!["executions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Resume_StoppedRunWithoutHigherMaxRounds_RefusedAndNothingChanged()
    {
        var store = data.NewStore();
        await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 3));
        var keys = (await store.ListAsync("runs/test-run/")).Select(o => (o.Key, o.Size)).ToList();

        var resumed = await PipelineFixture.RunAsync(store, Resume("test-run"));

        Assert.Equal(nameof(RunNotResumableException), resumed.Error);
        Assert.Contains("--max-rounds", resumed.Cause);
        Assert.Equal(keys, (await store.ListAsync("runs/test-run/")).Select(o => (o.Key, o.Size)).ToList());
    }

    [Fact]
    public async Task Resume_AfterFailedRound_ContinuesFromLastRecordBitIdentical()
    {
        var store = data.NewStore();
        var reference = data.NewStore();
        var failing = new LocalPipelineOptions { WrapFunctions = inner => new FailingDecide(inner, failAtRound: 5) };

        var failed = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 8), failing);
        var failure = await store.GetAsync(RunLayout.Failure("test-run"));
        var resumed = await PipelineFixture.RunAsync(store, Resume("test-run"));
        await PipelineFixture.RunAsync(reference, PipelineFixture.Job("admm", maxRounds: 8));

        Assert.False(failed.Succeeded);
        Assert.True(resumed.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        // The run is no longer failed, and the first attempt's failure stays on record, byte for byte, under failures/.
        Assert.False(await store.ExistsAsync(RunLayout.Failure("test-run")));
        var past = Assert.Single(await store.ListAsync("runs/test-run/failures/"));
        Assert.Equal(failure, await store.GetAsync(past.Key));
        Assert.Equal(StepML.Cli.Runs.RunStatus.Finished, (await new StepML.Cli.Runs.RunReader(store).OverviewAsync("test-run")).Status);
        Assert.Equal(await reference.GetAsync(RunLayout.FinalModel("test-run")), await store.GetAsync(RunLayout.FinalModel("test-run")));
    }

    [Fact]
    public async Task Run_AfterARefusedAttemptOnTheSameRunId_ArchivesItsFailureAndFinishes()
    {
        var store = data.NewStore();
        var wrong = PipelineFixture.Job("admm", maxRounds: 2);
        wrong["dataset"]!["labels"] = "datasets/labels.idx"; // refused by Prepare: LIBSVM rows carry their labels

        var refused = await PipelineFixture.RunAsync(store, wrong);
        var failure = await store.GetAsync(RunLayout.Failure("test-run"));
        var fixedRun = await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 2));

        Assert.Equal("JobSpecException", refused.Error);
        Assert.True(fixedRun.Succeeded, $"{fixedRun.Error}: {fixedRun.Cause}");
        // The finished run holds no failure.json of the attempt before it; that attempt's error stays readable.
        Assert.False(await store.ExistsAsync(RunLayout.Failure("test-run")));
        Assert.Equal(failure, await store.GetAsync(Assert.Single(await store.ListAsync("runs/test-run/failures/")).Key));
    }

    [Fact]
    public async Task Resume_DamagedRecordAndTruncatedMetrics_NamesTheRecordAndStillFinishes()
    {
        var store = data.NewStore();
        var reference = data.NewStore();
        await PipelineFixture.RunAsync(store, PipelineFixture.Job("admm", maxRounds: 4));
        await PipelineFixture.RunAsync(reference, PipelineFixture.Job("admm", maxRounds: 6));
        var record = await store.GetAsync(RunLayout.Record("test-run", 1));
        await store.PutAsync(RunLayout.Record("test-run", 1), record.AsMemory(0, record.Length / 2));
        var metrics = await store.GetAsync(RunLayout.Metrics("test-run"));
        await store.PutAsync(RunLayout.Metrics("test-run"), metrics.AsMemory(0, metrics.Length - 7));

        var resumed = await PipelineFixture.RunAsync(store, Resume("test-run", maxRounds: 6));

        Assert.True(resumed.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        Assert.Contains(RunLayout.Record("test-run", 1), Assert.Single(resumed.Summary!.Warnings!));
        Assert.Equal(await reference.GetAsync(RunLayout.FinalModel("test-run")), await store.GetAsync(RunLayout.FinalModel("test-run")));
        var rounds = Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Metrics("test-run"))).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonNode.Parse(l)!["round"]!.GetValue<long>());
        Assert.Equal([0L, 2, 3, 4, 5], rounds);
    }

    private static string UploadEvent(string key, string sequencer) => new JsonObject
    {
        ["id"] = Guid.NewGuid().ToString(), ["detail-type"] = "Object Created", ["source"] = "aws.s3",
        ["detail"] = new JsonObject
        {
            ["bucket"] = new JsonObject { ["name"] = "stepml-bucket" },
            ["object"] = new JsonObject { ["key"] = key, ["etag"] = "e", ["sequencer"] = sequencer },
        },
    }.ToJsonString();

    [Fact]
    public async Task Upload_ReadmeFlowDatasetThenJobAndARedelivery_StartExactlyOneRun()
    {
        var store = data.NewStore();
        var pipeline = new LocalPipeline(store, new LocalPipelineOptions { WaitTimeScale = 0, Concurrency = 4 });
        await store.PutAsync("jobs/readme.json", Encoding.UTF8.GetBytes(PipelineFixture.Job("admm", maxRounds: 2, runId: "from-upload").ToJsonString()));

        var dataset = await pipeline.RunAsync(UploadEvent(PipelineFixture.DatasetKey, "0001"));
        var job = await pipeline.RunAsync(UploadEvent("jobs/readme.json", "0002"));
        var redelivered = await pipeline.RunAsync(UploadEvent("jobs/readme.json", "0002"));

        Assert.True(dataset.Succeeded && job.Succeeded && redelivered.Succeeded);
        Assert.Contains("no sidecar job", JsonNode.Parse(dataset.Output!)!["reason"]!.GetValue<string>());
        Assert.Equal("from-upload", job.Summary!.RunId);
        Assert.Contains(job.Executions[0].ExecutionArn, JsonNode.Parse(redelivered.Output!)!["reason"]!.GetValue<string>());
        Assert.Equal(["runs/from-upload/job.json"], (await store.ListAsync("runs/")).Select(o => o.Key).Where(k => k.EndsWith("job.json", StringComparison.Ordinal)));
    }

    private static JsonObject Resume(string runId, int? maxRounds = null)
    {
        var request = new JsonObject { ["runId"] = runId };
        if (maxRounds is { } n) request["maxRounds"] = n;
        return new JsonObject { ["resume"] = request };
    }

    /// <summary>Decide of one round fails (a fault the store cannot be made to cause on cue), as a crash would.</summary>
    private sealed class FailingDecide(StepML.Local.IFunctionInvoker inner, long failAtRound) : StepML.Local.IFunctionInvoker
    {
        public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            if (functionName.EndsWith("Decide", StringComparison.Ordinal))
            {
                var copy = new MemoryStream();
                await payload.CopyToAsync(copy, ct);
                copy.Position = 0;
                if (JsonNode.Parse(copy.ToArray())!["round"]!.GetValue<long>() == failAtRound)
                    throw new IOException($"injected crash in Decide of round {failAtRound}");
                return await inner.InvokeAsync(functionName, copy, ct);
            }
            return await inner.InvokeAsync(functionName, payload, ct);
        }
    }
}
