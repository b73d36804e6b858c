using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

/// <summary>The Lambda contract: a JSON stream in, a camelCase JSON stream out, as the state machine passes them.</summary>
public class HandlerTests
{
    private static Stream In(string json) => new MemoryStream(Encoding.UTF8.GetBytes(json));

    private static async Task<JsonObject> OutAsync(Task<Stream> output)
    {
        using var stream = await output;
        return JsonNode.Parse(stream)!.AsObject();
    }

    private static void AssertCamelCase(JsonObject obj)
    {
        foreach (var (name, _) in obj)
            Assert.True(char.IsLower(name[0]), $"property '{name}' is not camelCase");
    }

    [Fact]
    public async Task HandleAsync_OneRoundThroughStreams_CamelCaseContractsAndModelWritten()
    {
        // Arrange
        using var run = new TestRun();

        // Act: Prepare
        var state = await OutAsync(new PrepareFunction(run.Context).HandleAsync(In(TestRun.Job(partitions: 2))));
        AssertCamelCase(state);
        // Partition (ItemSelector {set, range}), Summarize, Assemble ({set, output}), then Commit ({"commit": state})
        var partitioning = state["partitioning"]!.AsObject();
        var set = (string)partitioning["set"]!;
        foreach (var range in partitioning["ranges"]!.AsArray())
        {
            var cut = await OutAsync(new PartitionFunction(run.Context).HandleAsync(In($$"""{ "set": "{{set}}", "range": {{range}} }""")));
            AssertCamelCase(cut);
            Assert.Equal((int)range!, (int)cut["range"]!);
        }
        await OutAsync(new PartitionFunction(run.Context).HandleAsync(In($$"""{ "set": "{{set}}", "summarize": true }""")));
        foreach (var output in partitioning["outputs"]!.AsArray())
            await OutAsync(new PartitionFunction(run.Context).HandleAsync(In($$"""{ "set": "{{set}}", "output": {{output}} }""")));
        state = await OutAsync(new PrepareFunction(run.Context).HandleAsync(In(new JsonObject { ["commit"] = state.DeepClone() }.ToJsonString())));
        Assert.False(state.ContainsKey("partitioning"), "Commit clears the partitioning plan");
        Assert.Equal(set, (string)state["partitionSet"]!);
        Assert.Equal("run-1", (string?)state["runId"]);
        Assert.Equal(0, (long)state["round"]!);
        Assert.Equal("[0,1]", state["partitions"]!.ToJsonString());
        Assert.False(state.ContainsKey("workers"), "null fields are omitted from the state");

        // Workers: the ItemSelector builds {runId, round, partition}
        var workers = new JsonArray();
        foreach (var p in new[] { 0, 1 })
        {
            var output = await OutAsync(new WorkerFunction(run.Context).HandleAsync(In($$"""{ "runId": "run-1", "round": 0, "partition": {{p}} }""")));
            AssertCamelCase(output);
            Assert.Equal(["partition", "samples", "loss", "seconds"], output.Select(kv => kv.Key));
            workers.Add(output);
        }

        // Merge: {runId, round, shard, workers}
        var merge = await OutAsync(new MergeFunction(run.Context).HandleAsync(In($$"""{ "runId": "run-1", "round": 0, "shard": 0, "workers": {{workers.ToJsonString()}} }""")));
        AssertCamelCase(merge);
        Assert.Equal(2, (int)merge["contributors"]!);

        // Decide: the state with $.workers and $.merged
        state["workers"] = workers.DeepClone();
        state["merged"] = new JsonArray(merge.DeepClone());
        var next = await OutAsync(new DecideFunction(run.Context).HandleAsync(In(state.ToJsonString())));
        AssertCamelCase(next);
        Assert.Equal(1, (long)next["round"]!);
        Assert.Equal("continue", (string?)next["action"]);
        Assert.False(next.ContainsKey("workers"));

        // Finalize
        var summary = await OutAsync(new FinalizeFunction(run.Context).HandleAsync(In(next.ToJsonString())));
        AssertCamelCase(summary);
        Assert.Equal("runs/run-1/model/final.tensor", (string?)summary["modelKey"]);

        // Assert: the model the loop produced
        var model = TensorCodec.Decode(await run.GetAsync("runs/run-1/model/1.tensor"), "m", out _);
        Assert.Contains(model, v => v != 0);
    }

    [Fact]
    public async Task HandleAsync_DecideWithFailedIterationSlot_CountsItAsFailed()
    {
        // A tolerated failure leaves {"Error": ..., "Cause": ...} in the Map's result array.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(partitions: 2));
        var w0 = await WorkerStep.RunAsync(run.Context, new WorkerInput("run-1", 0, 0));
        var workersJson = $$"""[{{JsonSerializer.Serialize(w0, ContractJson.Default.WorkerOutput)}}, { "Error": "States.TaskFailed", "Cause": "boom" }]""";
        var merge = await OutAsync(new MergeFunction(run.Context).HandleAsync(In($$"""{ "runId": "run-1", "round": 0, "shard": 0, "workers": {{workersJson}} }""")));
        var input = JsonNode.Parse(JsonSerializer.Serialize(state, ContractJson.Default.RunState))!.AsObject();
        input["workers"] = JsonNode.Parse(workersJson);
        input["merged"] = new JsonArray(merge);

        await OutAsync(new DecideFunction(run.Context).HandleAsync(In(input.ToJsonString())));

        var metrics = JsonDocument.Parse(Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/metrics.jsonl")).Trim()).RootElement;
        Assert.Equal(1, metrics.GetProperty("workers").GetInt32());
        Assert.Equal(1, metrics.GetProperty("failedWorkers").GetInt32());
        Assert.Equal(w0.Samples, metrics.GetProperty("samples").GetInt64());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[1, 2]")]
    [InlineData("""{ "runId": 5, "round": 0, "partition": 0 }""")]
    [InlineData("{ not json")]
    public async Task HandleAsync_WorkerWithMalformedInput_InvalidInputNamingTheFunction(string json)
    {
        using var run = new TestRun();

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => new WorkerFunction(run.Context).HandleAsync(In(json)));

        Assert.StartsWith("Worker:", e.Message);
    }

    [Fact]
    public async Task HandleAsync_WorkerInputMissingPartition_InvalidInputNamingIt()
    {
        // A missing field must not silently become partition 0 (the worker would overwrite partition 0's statistic).
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job());

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => new WorkerFunction(run.Context).HandleAsync(In("""{ "runId": "run-1", "round": 0 }""")));

        Assert.Contains("partition", e.Message);
        Assert.False(await run.ExistsAsync("runs/run-1/rounds/0/stats/0.tensor"));
    }

    [Theory]
    [InlineData("""{ "runId": "run-1", "round": 0, "shard": 0 }""")]
    [InlineData("""{ "runId": "run-1", "round": 0, "shard": 0, "workers": null }""")]
    public async Task HandleAsync_MergeInputWithoutWorkers_InvalidInputNamingIt(string json)
    {
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job());

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => new MergeFunction(run.Context).HandleAsync(In(json)));

        Assert.Contains("workers", e.Message);
    }

    [Fact]
    public async Task HandleAsync_PrepareWithNull_InvalidInput()
    {
        using var run = new TestRun();

        await Assert.ThrowsAsync<InvalidInputException>(() => new PrepareFunction(run.Context).HandleAsync(In("null")));
    }

    [Fact]
    public async Task HandleAsync_RecordFailure_ReturnsCamelCaseRecord()
    {
        using var run = new TestRun();

        var record = await OutAsync(new RecordFailureFunction(run.Context).HandleAsync(In("""{ "error": { "Error": "E", "Cause": "C" } }""")));

        AssertCamelCase(record);
        Assert.Equal("E", (string?)record["error"]);
        Assert.Equal("C", (string?)record["cause"]);
        Assert.False(record.ContainsKey("runId"));
    }
}
