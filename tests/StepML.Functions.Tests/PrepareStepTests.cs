using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions.Tests;

public class PrepareStepTests
{
    private static string S3Event(string key) => $$"""
        {
          "version": "0", "id": "5b7a1c3e-0000-4000-8000-000000000001", "detail-type": "Object Created", "source": "aws.s3",
          "account": "123456789012", "time": "2026-01-02T03:04:05Z", "region": "us-east-1",
          "resources": ["arn:aws:s3:::stepml-bucket"],
          "detail": {
            "version": "0", "bucket": { "name": "stepml-bucket" },
            "object": { "key": "{{key}}", "size": 1234, "etag": "0123456789abcdef", "sequencer": "00617F" },
            "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"
          }
        }
        """;

    [Fact]
    public async Task RunAsync_JobSpec_WritesJobModelAndPartitionsAndReturnsFirstState()
    {
        // Arrange
        using var run = new TestRun();

        // Act
        var state = await run.PrepareAsync(TestRun.Job(partitions: 3));

        // Assert: the state
        Assert.Equal("run-1", state.RunId);
        Assert.Equal(0, state.Round);
        Assert.Equal([0, 1, 2], state.Partitions);
        Assert.Equal([0], state.Shards);
        Assert.Equal(run.Time.Now.ToUnixTimeMilliseconds(), state.StartedAtMs);
        Assert.InRange(state.RoundsPerExecution, 1, 25_000);
        Assert.Null(state.Skip);
        // job.json: the validated job with the discovered features and resolved format
        var job = JobSpecParser.Parse(Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/job.json")));
        Assert.Equal(TestRun.Features, job.Dataset.Features);
        Assert.Equal("libsvm", job.Dataset.Format);
        Assert.Equal("run-1", job.RunId);
        Assert.Equal("ga-sgd", job.Algorithm.Type);
        // model/0.tensor: zeros, round 0, features + 1 values
        var model = TensorCodec.Decode(await run.GetAsync("runs/run-1/model/0.tensor"), "model", out var header);
        Assert.Equal(0, header.Round);
        Assert.Equal(new float[TestRun.Features + 1], model);
        // partitions: every row lands in exactly one of them
        long rows = 0;
        foreach (var key in new[] { "0.part", "1.part", "2.part", "validation.part" })
            rows += Partition.Decode(await run.GetAsync(await run.PartitionKeyAsync(key)), key).Rows;
        Assert.Equal(600, rows);
    }

    [Fact]
    public async Task RunAsync_JobKey_ReadsTheJobFromTheStore()
    {
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/x.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "from-key", algorithm: "ma-sgd")));

        var state = await run.PrepareAsync("""{ "jobKey": "jobs/x.json" }""");

        Assert.Equal("from-key", state.RunId);
        Assert.Contains("jobs/x.json", state.Reason);
        var job = JobSpecParser.Parse(Encoding.UTF8.GetString(await run.GetAsync("runs/from-key/job.json")));
        Assert.Equal("ma-sgd", job.Algorithm.Type);
    }

    [Fact]
    public async Task RunAsync_S3EventForJobFile_StartsRunFromThatFile()
    {
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/x.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "from-event")));

        var state = await run.PrepareAsync(S3Event("jobs/x.json"));

        Assert.Equal("from-event", state.RunId);
        Assert.True(await run.ExistsAsync("runs/from-event/model/0.tensor"));
    }

    [Fact]
    public async Task RunAsync_DatasetUploadWithSidecar_UsesTheSidecarJob()
    {
        using var run = new TestRun();
        await run.Store.PutAsync(TestRun.DatasetKey + ".job.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "sidecar-run", algorithm: "admm", partitions: 2)));

        var state = await run.PrepareAsync(S3Event(TestRun.DatasetKey));

        Assert.Equal("sidecar-run", state.RunId);
        Assert.Equal([0, 1], state.Partitions);
        var job = JobSpecParser.Parse(Encoding.UTF8.GetString(await run.GetAsync("runs/sidecar-run/job.json")));
        Assert.Equal("admm", job.Algorithm.Type);
    }

    [Fact]
    public async Task RunAsync_DatasetUploadWithoutSidecar_SkipsNamingTheJobToUpload()
    {
        using var run = new TestRun();

        var state = await run.PrepareAsync(S3Event(TestRun.DatasetKey));

        Assert.True(state.Skip);
        Assert.Contains("no sidecar job 'datasets/small.libsvm.job.json'", state.Reason);
        Assert.Contains("jobs/", state.Reason);
        Assert.Empty(await run.KeysAsync("runs/"));
    }

    [Fact]
    public async Task RunAsync_SidecarUpload_SkipsAndWritesNothing()
    {
        using var run = new TestRun();
        await run.Store.PutAsync(TestRun.DatasetKey + ".job.json", Encoding.UTF8.GetBytes(TestRun.Job()));

        var state = await run.PrepareAsync(S3Event(TestRun.DatasetKey + ".job.json"));

        Assert.True(state.Skip);
        Assert.Empty(await run.KeysAsync("runs/"));
    }

    [Fact]
    public async Task RunAsync_EventKeyUrlEncoded_Decoded()
    {
        // EventBridge delivers keys URL-encoded: "jobs/my%20job.json" is not a valid key, but "jobs/a%2Db.json" is "jobs/a-b.json".
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/a-b.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "encoded")));

        var state = await run.PrepareAsync(S3Event("jobs/a%2Db.json"));

        Assert.Equal("encoded", state.RunId);
    }

    [Theory]
    [InlineData("other/x.json", typeof(InvalidInputException))]
    [InlineData("jobs/../secrets.json", typeof(ArgumentException))]
    public async Task RunAsync_EventForUnusableKey_Rejected(string key, Type expected)
    {
        using var run = new TestRun();

        var e = await Assert.ThrowsAnyAsync<Exception>(() => run.PrepareAsync(S3Event(key)));

        Assert.IsType(expected, e);
        Assert.Empty(await run.KeysAsync("runs/"));
    }

    [Fact]
    public async Task RunAsync_Resume_ReturnsCarriedStateWithExecutionCountersReset()
    {
        // Arrange: a state as ContinueAsNew hands it to the next execution.
        using var run = new TestRun();
        var first = await run.PrepareAsync(TestRun.Job());
        var carried = first with
        {
            Round = 12, RoundsThisExecution = 12, PreviousLoss = 0.4, FirstLoss = 0.69, StallRounds = 1, CostUsd = 0.02,
            Action = "continue-as-new", Reason = "history", Workers = [new WorkerOutput { Partition = 0, Samples = 1 }],
        };
        var input = $$"""{ "resume": {{JsonSerializer.Serialize(carried, ContractJson.Default.RunState)}} }""";
        var modelBefore = await run.GetAsync("runs/run-1/model/0.tensor");

        // Act
        var state = await run.PrepareAsync(input);

        // Assert
        Assert.Equal(12, state.Round);
        Assert.Equal(0, state.RoundsThisExecution);
        Assert.Equal(0.4, state.PreviousLoss);
        Assert.Equal(0.69, state.FirstLoss);
        Assert.Equal(1, state.StallRounds);
        Assert.Equal(0.02, state.CostUsd);
        Assert.Equal(first.StartedAtMs, state.StartedAtMs);
        Assert.Null(state.Action);
        Assert.Null(state.Workers);
        Assert.Equal(modelBefore, await run.GetAsync("runs/run-1/model/0.tensor"));
    }

    [Fact]
    public async Task RunAsync_ResumeOfUnknownRun_ThrowsRunNotFound()
    {
        using var run = new TestRun();

        var e = await Assert.ThrowsAsync<RunNotFoundException>(() => run.PrepareAsync("""{ "resume": { "runId": "nobody", "round": 3 } }"""));

        Assert.Contains("nobody", e.Message);
    }

    [Fact]
    public async Task RunAsync_MissingDataset_NamesDatasetPath()
    {
        using var run = new TestRun();
        var job = TestRun.Job().Replace(TestRun.DatasetKey, "datasets/missing.libsvm");

        var e = await Assert.ThrowsAsync<JobSpecException>(() => run.PrepareAsync(job));

        Assert.Equal("dataset.path", e.Field);
        Assert.Contains("datasets/missing.libsvm", e.Message);
        Assert.Empty(await run.KeysAsync("runs/"));
    }

    [Fact]
    public async Task RunAsync_ExistingRunIdWithDifferentJob_ThrowsRunExistsAndLeavesRunUntouched()
    {
        // Arrange
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(algorithm: "ga-sgd"));
        var before = new Dictionary<string, byte[]>();
        foreach (var key in await run.KeysAsync("runs/run-1/")) before[key] = await run.GetAsync(key);

        // Act
        await Assert.ThrowsAsync<RunExistsException>(() => run.PrepareAsync(TestRun.Job(algorithm: "admm")));

        // Assert
        Assert.Equal(before.Keys.Order(), (await run.KeysAsync("runs/run-1/")).Order());
        foreach (var (key, bytes) in before) Assert.Equal(bytes, await run.GetAsync(key));
    }

    [Fact]
    public async Task RunAsync_SameJobRetried_SucceedsWithSameOutputs()
    {
        // A retried Prepare (Lambda timeout after the writes) is the same execution: it still owns the run and may
        // redo its work.
        using var run = new TestRun();
        var input = $$"""{ "input": {{TestRun.Job()}}, "executionId": "arn:aws:states:us-east-1:1:execution:train:a" }""";
        var first = await run.PrepareAsync(input);
        var partition = await run.GetAsync(await run.PartitionKeyAsync("1.part"));

        var second = await run.PrepareAsync(input);

        Assert.Equal(first.RunId, second.RunId);
        Assert.Equal("arn:aws:states:us-east-1:1:execution:train:a", second.Owner);
        Assert.Equal(partition, await run.GetAsync(await run.PartitionKeyAsync("1.part")));
    }

    [Fact]
    public async Task RunAsync_SameJobByAnotherExecution_RefusedNamingTheOwnerAndWritesNothing()
    {
        using var run = new TestRun();
        await run.PrepareAsync($$"""{ "input": {{TestRun.Job()}}, "executionId": "exec-first" }""");
        var before = await run.KeysAsync("runs/run-1/");
        var stamps = before.ToDictionary(k => k, k => File.GetLastWriteTimeUtc(Path.Combine(run.Store.Root, k)));

        var e = await Assert.ThrowsAsync<StepML.Storage.Ledger.RunOwnedException>(
            () => run.PrepareAsync($$"""{ "input": {{TestRun.Job()}}, "executionId": "exec-second" }"""));

        Assert.Contains("exec-first", e.Message);
        Assert.Equal(before, await run.KeysAsync("runs/run-1/"));
        Assert.All(before, k => Assert.Equal(stamps[k], File.GetLastWriteTimeUtc(Path.Combine(run.Store.Root, k))));
    }

    [Fact]
    public async Task RunAsync_SameS3EventDeliveredTwice_SecondIsSkippedNamingTheFirstExecution()
    {
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/x.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "from-event")));

        var first = await run.PrepareAsync($$"""{ "input": {{S3Event("jobs/x.json")}}, "executionId": "exec-1" }""");
        var again = await run.PrepareAsync($$"""{ "input": {{S3Event("jobs/x.json")}}, "executionId": "exec-2" }""");

        Assert.Equal("from-event", first.RunId);
        Assert.True(again.Skip);
        Assert.Contains("exec-1", again.Reason);
        Assert.Contains("redelivered", again.Reason);
    }

    [Fact]
    public async Task RunAsync_SameKeyUploadedAgainWithNewSequencer_IsANewUpload()
    {
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/x.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "first-upload")));
        await run.PrepareAsync($$"""{ "input": {{S3Event("jobs/x.json")}}, "executionId": "exec-1" }""");
        await run.Store.PutAsync("jobs/x.json", Encoding.UTF8.GetBytes(TestRun.Job(runId: "second-upload")));

        var second = await run.PrepareAsync($$"""{ "input": {{S3Event("jobs/x.json").Replace("00617F", "00617G")}}, "executionId": "exec-2" }""");

        Assert.Equal("second-upload", second.RunId);
    }

    [Fact]
    public async Task RunAsync_JobFileWithBadField_ErrorNamesFileAndField()
    {
        using var run = new TestRun();
        await run.Store.PutAsync("jobs/bad.json", Encoding.UTF8.GetBytes("""{ "dataset": { "path": "d", "partitons": 3 } }"""));

        var e = await Assert.ThrowsAsync<JobSpecException>(() => run.PrepareAsync("""{ "jobKey": "jobs/bad.json" }"""));

        Assert.Equal("dataset.partitons", e.Field);
        Assert.Contains("jobs/bad.json", e.Message);
        Assert.Contains("partitions", e.Message);
    }

    [Fact]
    public async Task RunAsync_MoreShardsThanParameters_NamesShards()
    {
        using var run = new TestRun();

        var e = await Assert.ThrowsAsync<JobSpecException>(() => run.PrepareAsync(TestRun.Job(pattern: "scatter-reduce", shards: 8)));

        Assert.Equal("communication.shards", e.Field);
        Assert.Contains("at most 7", e.Message);
        Assert.False(await run.ExistsAsync("runs/run-1/job.json"));
    }

    [Theory]
    [InlineData("""{ "jobKey": 5 }""", "jobKey")]
    [InlineData("""{ "jobKey": { "key": "jobs/x.json" } }""", "jobKey")]
    [InlineData("""{ "detail": { "object": { "key": 7 } } }""", "detail.object.key")]
    [InlineData("""{ "detail": { "object": "jobs/x.json" } }""", "detail.object.key")]
    public async Task RunAsync_KeyOfWrongType_InvalidInputNamingTheField(string json, string field)
    {
        using var run = new TestRun();

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => run.PrepareAsync(json));

        Assert.Contains(field, e.Message);
    }

    [Fact]
    public async Task RunAsync_LongestNameWithoutRunId_GeneratedRunIdUsableByLaterSteps()
    {
        // Arrange: a 48-character name (the longest the spec allows) and no runId, so Prepare generates one.
        using var run = new TestRun();
        var name = new string('n', 48);
        var job = $$"""{ "name": "{{name}}", "dataset": { "path": "{{TestRun.DatasetKey}}", "partitions": 2 }, "algorithm": { "type": "ga-sgd" } }""";

        // Act
        var state = await run.PrepareAsync(job);
        var worker = await WorkerStep.RunAsync(run.Context, new WorkerInput(state.RunId, 0, 1));

        // Assert: the stored job.json parses back (every later step reads it).
        Assert.StartsWith(name[..43] + "-", state.RunId);
        Assert.InRange(state.RunId.Length, 1, 64);
        Assert.Equal(1, worker.Partition);
        var stored = JobSpecParser.Parse(Encoding.UTF8.GetString(await run.GetAsync($"runs/{state.RunId}/job.json")));
        Assert.Equal(state.RunId, stored.RunId);
    }

    [Theory]
    [InlineData("datasets/h.csv", "", "csv")]
    [InlineData("datasets/h.CSV", "", "csv")]
    [InlineData("datasets/h.libsvm", "", "libsvm")]
    [InlineData("datasets/h.svm", "", "libsvm")]
    [InlineData("datasets/h.txt", "", "libsvm")]
    [InlineData("datasets/h.data", "csv", "csv")]
    public void ResolveFormat_ExtensionOrExplicit_Resolved(string path, string format, string expected)
    {
        Assert.Equal(expected, PrepareStep.ResolveFormat(new DatasetSpec { Path = path, Format = format }));
    }

    [Theory]
    [InlineData("labels")]
    [InlineData("testLabels")]
    public async Task RunAsync_LabelsFileForTextData_NamesTheFieldAndWritesNoRun(string field)
    {
        using var run = new TestRun();
        var job = JsonNode.Parse(TestRun.Job())!.AsObject();
        job["dataset"]![field] = "datasets/train-labels-idx1-ubyte";

        var e = await Assert.ThrowsAsync<JobSpecException>(() => run.PrepareAsync(job.ToJsonString()));

        Assert.Equal($"dataset.{field}", e.Field);
        Assert.Contains("leave", e.Message);
        Assert.Empty(await run.KeysAsync("runs/"));
    }

    [Fact]
    public void ResolveFormat_UnknownExtension_NamesDatasetFormat()
    {
        var e = Assert.Throws<JobSpecException>(() => PrepareStep.ResolveFormat(new DatasetSpec { Path = "datasets/h.parquet" }));

        Assert.Equal("dataset.format", e.Field);
    }

    [Fact]
    public async Task RunAsync_NotAnObject_InvalidInput()
    {
        using var run = new TestRun();

        await Assert.ThrowsAsync<InvalidInputException>(() => run.PrepareAsync("[1]"));
    }
}
