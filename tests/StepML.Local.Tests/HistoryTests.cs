using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class HistoryTests
{
    private const string LoopLike = """
        {"StartAt":"Prepare","States":{
          "Prepare":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:prepare","Next":"Workers"},
          "Workers":{"Type":"Map","ItemsPath":"$.parts","ResultPath":"$.results",
            "ItemProcessor":{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
              "Parameters":{"FunctionName":"work","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}},"Next":"Decide"},
          "Decide":{"Type":"Choice","Choices":[{"Variable":"$.stop","BooleanEquals":true,"Next":"Done"}],"Default":"Done"},
          "Done":{"Type":"Succeed"}}}
        """;

    private static FunctionTable Functions() => new FunctionTable()
        .Add("prepare", _ => JsonNode.Parse("""{"parts":[0,1,2,3],"stop":true}"""))
        .Add("work", i => JsonValue.Create((int)i! + 100));

    [Fact]
    public async Task History_IdsAreSequentialAndPreviousIdsPointBackward()
    {
        var (result, execution, _) = await Asl.RunAsync(LoopLike, "{}", Functions());
        Assert.Equal("SUCCEEDED", result.Status);
        var events = execution.History;
        for (int i = 0; i < events.Count; i++)
        {
            Assert.Equal(i + 1, events[i].Id);
            Assert.InRange(events[i].PreviousEventId, 0, events[i].Id - 1);
        }
        Assert.Equal(0, events[0].PreviousEventId);
        Assert.Equal("ExecutionStarted", events[0].Type);
        Assert.Equal("ExecutionSucceeded", events[^1].Type);
    }

    [Fact]
    public async Task History_EventTypesFollowTheDocumentedSequence()
    {
        var (_, execution, _) = await Asl.RunAsync(LoopLike, "{}", Functions());
        var types = execution.History.Select(e => e.Type).ToList();
        Assert.Equal(["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded",
                      "TaskStateExited", "MapStateEntered", "MapStateStarted"], types.Take(8).ToArray());
        Assert.Equal(["MapStateSucceeded", "MapStateExited", "ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered",
                      "SucceedStateExited", "ExecutionSucceeded"], types.TakeLast(7).ToArray());
        Assert.Equal(4, types.Count(t => t == "MapIterationStarted"));
        Assert.Equal(4, types.Count(t => t == "MapIterationSucceeded"));
        Assert.Equal(4, types.Count(t => t == "TaskScheduled"));
        Assert.Equal(4, types.Count(t => t == "TaskSucceeded"));
    }

    [Fact]
    public async Task History_IterationChainsStartAtMapStateStarted()
    {
        var (_, execution, _) = await Asl.RunAsync(LoopLike, "{}", Functions());
        var events = execution.History;
        var byId = events.ToDictionary(e => e.Id);
        var mapStarted = events.Single(e => e.Type == "MapStateStarted");
        Assert.Equal(4, (int)mapStarted.Details["length"]!);
        foreach (var started in events.Where(e => e.Type == "MapIterationStarted"))
        {
            Assert.Equal(mapStarted.Id, started.PreviousEventId);
            Assert.Equal("Workers", (string?)started.Details["name"]);
        }
        // Every iteration's TaskSucceeded chains back through TaskStarted and TaskScheduled to its TaskStateEntered.
        foreach (var succeeded in events.Where(e => e.Type == "TaskSucceeded"))
        {
            var startedEvent = byId[succeeded.PreviousEventId];
            Assert.Equal("TaskStarted", startedEvent.Type);
            Assert.Equal("TaskScheduled", byId[startedEvent.PreviousEventId].Type);
            Assert.Equal("lambda", (string?)succeeded.Details["resourceType"]);
            Assert.Equal("invoke", (string?)succeeded.Details["resource"]);
        }
        var indexes = events.Where(e => e.Type == "MapIterationSucceeded").Select(e => (int)e.Details["index"]!).Order().ToArray();
        Assert.Equal([0, 1, 2, 3], indexes);
    }

    [Fact]
    public async Task HistoryJson_ParsesWithDocumentedDetailFieldNames()
    {
        var (_, execution, _) = await Asl.RunAsync(LoopLike, """{"job":"x"}""", Functions());
        var json = JsonNode.Parse(execution.HistoryJson())!;
        var events = json["events"]!.AsArray();
        Assert.Equal(execution.History.Count, events.Count);
        var first = events[0]!;
        Assert.Equal("ExecutionStarted", (string?)first["type"]);
        Assert.Equal(1, (long)first["id"]!);
        Assert.Equal(0, (long)first["previousEventId"]!);
        Assert.True(DateTimeOffset.TryParse((string?)first["timestamp"], out _));
        Asl.JsonEqual("""{"job":"x"}""", JsonNode.Parse((string)first["executionStartedEventDetails"]!["input"]!));
        var entered = events.First(e => (string?)e!["type"] == "TaskStateEntered")!;
        Assert.Equal("Prepare", (string?)entered["stateEnteredEventDetails"]!["name"]);
        var exited = events.First(e => (string?)e!["type"] == "MapStateExited")!;
        Assert.NotNull(exited["stateExitedEventDetails"]!["output"]);
        Assert.NotNull(events.First(e => (string?)e!["type"] == "MapIterationStarted")!["mapIterationStartedEventDetails"]!["index"]);
        Assert.NotNull(events.First(e => (string?)e!["type"] == "LambdaFunctionScheduled")!["lambdaFunctionScheduledEventDetails"]!["resource"]);
        Assert.NotNull(events.Last()!["executionSucceededEventDetails"]!["output"]);
    }

    [Fact]
    public async Task History_FailedExecution_EndsWithFailStateEnteredAndExecutionFailed()
    {
        var (_, execution, _) = await Asl.RunAsync("""{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E1","Cause":"why"}}}""");
        var events = execution.History;
        Assert.Equal(["ExecutionStarted", "FailStateEntered", "ExecutionFailed"], events.Select(e => e.Type).ToArray());
        Assert.Equal("E1", (string?)events[^1].Details["error"]);
        Assert.Equal("why", (string?)events[^1].Details["cause"]);
        Assert.Equal(events[1].Id, events[2].PreviousEventId);
    }

    [Fact]
    public async Task History_DistributedMap_RecordsMapRunEvents()
    {
        var (_, execution, _) = await Asl.RunAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
              "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}
            """, "[1,2]");
        var types = execution.History.Select(e => e.Type).ToList();
        Assert.True(types.IndexOf("MapRunStarted") < types.IndexOf("MapRunSucceeded"));
        var runStarted = execution.History.Single(e => e.Type == "MapRunStarted");
        Assert.StartsWith("arn:aws:states:local:000000000000:mapRun:Test/M:", (string?)runStarted.Details["mapRunArn"]);
    }

    [Fact]
    public async Task History_UnderConcurrentMap_HasUniqueSequentialIdsAndMonotonicTimestamps()
    {
        var functions = new FunctionTable().AddAsync("work", async (i, _) => { await Task.Yield(); return i; });
        var items = new JsonArray(Enumerable.Range(0, 200).Select(i => (JsonNode?)i).ToArray()).ToJsonString();
        var (result, execution, _) = await Asl.RunAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"W","States":{
              "W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:work","End":true}}},"End":true}}}
            """, items, functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 8 });
        Assert.Equal("SUCCEEDED", result.Status);
        var events = execution.History;
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        for (int i = 1; i < events.Count; i++) Assert.True(events[i].Timestamp >= events[i - 1].Timestamp);
        // Each iteration is one unbroken chain: MapIterationSucceeded → ... → MapIterationStarted of the same index.
        var byId = events.ToDictionary(e => e.Id);
        foreach (var done in events.Where(e => e.Type == "MapIterationSucceeded"))
        {
            var e = done;
            while (e.Type != "MapIterationStarted") e = byId[e.PreviousEventId];
            Assert.Equal((int)done.Details["index"]!, (int)e.Details["index"]!);
        }
    }
}
