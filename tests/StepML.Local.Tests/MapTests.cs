using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace StepML.Local.Tests;

public sealed class MapTests
{
    private static string InlineMap(string extra = "") => """
        {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",@@extra@@
          "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:work","End":true}}},
          "End":true}}}
        """.Replace("@@extra@@", extra);

    private static string DistributedMap(string tolerance) => """
        {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",@@tolerance@@
          "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
            "StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:work","End":true}}},
          "End":true}}}
        """.Replace("@@tolerance@@", tolerance);

    private static string Items(int n) => new JsonObject { ["items"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)i).ToArray()) }.ToJsonString();

    [Fact]
    public async Task Map_ShuffledCompletion_OutputKeepsItemOrder()
    {
        var rng = new Random(11);
        var delays = Enumerable.Range(0, 24).Select(_ => rng.Next(0, 30)).ToArray();
        var functions = new FunctionTable().AddAsync("work", async (input, ct) =>
        {
            int i = (int)input!;
            await Task.Delay(delays[i], ct);
            return JsonValue.Create(i * 10);
        });
        var (result, _, _) = await Asl.RunAsync(InlineMap(), Items(24), functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 24 });
        Asl.JsonEqual(new JsonArray(Enumerable.Range(0, 24).Select(i => (JsonNode?)(i * 10)).ToArray()).ToJsonString(), JsonNode.Parse(result.OutputJson!));
    }

    [Fact]
    public void Map_OutputOrder_EqualsItemOrderForAnyItems()
    {
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(-1000, 1000)).ToArbitrary(), items =>
        {
            var functions = new FunctionTable().AddAsync("work", async (input, _) =>
            {
                await Task.Yield();
                return JsonValue.Create((int)input! + 1);
            });
            var input = new JsonObject { ["items"] = new JsonArray(items.Select(i => (JsonNode?)i).ToArray()) }.ToJsonString();
            var (result, _, _) = Asl.RunAsync(InlineMap(), input, functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 4 }).GetAwaiter().GetResult();
            var output = JsonNode.Parse(result.OutputJson!)!.AsArray().Select(n => (int)n!).ToArray();
            return output.SequenceEqual(items.Select(i => i + 1));
        }).QuickCheckThrowOnFailure();
    }

    private static (FunctionTable Functions, Func<int> Peak) ConcurrencyProbe()
    {
        int current = 0, peak = 0;
        var functions = new FunctionTable().AddAsync("work", async (input, ct) =>
        {
            int now = Interlocked.Increment(ref current);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            await Task.Delay(15, ct);
            Interlocked.Decrement(ref current);
            return input;
        });
        return (functions, () => Volatile.Read(ref peak));
    }

    [Fact]
    public async Task Map_MaxConcurrency_BoundsConcurrentIterations()
    {
        var (functions, peak) = ConcurrencyProbe();
        var (result, _, _) = await Asl.RunAsync(InlineMap("\"MaxConcurrency\":3,"), Items(20), functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 64 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.InRange(peak(), 2, 3);
        Assert.Equal(20, functions.Calls);
    }

    [Fact]
    public async Task Map_EngineMaxConcurrency_CapsUnboundedMap()
    {
        var (functions, peak) = ConcurrencyProbe();
        var (result, _, _) = await Asl.RunAsync(InlineMap("\"MaxConcurrency\":0,"), Items(16), functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 2 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(2, peak());
    }

    [Fact]
    public async Task Map_MaxConcurrencyPath_IsReadFromInput()
    {
        var (functions, peak) = ConcurrencyProbe();
        var input = JsonNode.Parse(Items(12))!.AsObject();
        input["limit"] = 1;
        var (result, _, _) = await Asl.RunAsync(InlineMap("\"MaxConcurrencyPath\":\"$.limit\","), input.ToJsonString(), functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 8 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(1, peak());
    }

    [Fact]
    public async Task Map_NestedMapsUnderTinyEngineCap_DoNotDeadlock()
    {
        var functions = new FunctionTable().Add("work", i => i);
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"Outer","States":{"Outer":{"Type":"Map","ItemsPath":"$.rows",
              "ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Map",
                "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:work","End":true}}},
                "End":true}}},"End":true}}}
            """, """{"rows":[[1,2],[3,4],[5,6]]}""", functions, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 1 });
        Asl.JsonEqual("[[1,2],[3,4],[5,6]]", JsonNode.Parse(result.OutputJson!));
    }

    [Fact]
    public async Task Map_ItemSelector_SeesMapItemIndexValueAndStateInput()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.parts",
              "ItemSelector":{"index.$":"$$.Map.Item.Index","part.$":"$$.Map.Item.Value.p","model.$":"$.model","fixed":"k"},
              "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
              "ResultPath":"$.results","End":true}}}
            """, """{"model":"m/0.tensor","parts":[{"p":"a"},{"p":"b"}]}""");
        Asl.JsonEqual("""
            {"model":"m/0.tensor","parts":[{"p":"a"},{"p":"b"}],
             "results":[{"index":0,"part":"a","model":"m/0.tensor","fixed":"k"},{"index":1,"part":"b","model":"m/0.tensor","fixed":"k"}]}
            """, output);
    }

    [Fact]
    public async Task Map_LegacyIteratorAndParameters_AreAccepted()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","Parameters":{"x.$":"$$.Map.Item.Value"},
              "Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.x","End":true}}},"End":true}}}
            """, """{"xs":[1,2,3]}""");
        Asl.JsonEqual("[1,2,3]", output);
    }

    [Fact]
    public async Task Map_EmptyItems_GivesEmptyArray()
    {
        var output = await Asl.OutputAsync(InlineMap(), """{"items":[]}""", new FunctionTable().Add("work", i => i));
        Asl.JsonEqual("[]", output);
    }

    [Fact]
    public async Task Map_ItemsPathNotArray_FailsWithRuntimeError()
    {
        var (result, _, _) = await Asl.RunAsync(InlineMap(), """{"items":{"a":1}}""", new FunctionTable().Add("work", i => i));
        Assert.Equal("States.Runtime", result.Error);
        Assert.Contains("array", result.Cause);
    }

    [Fact]
    public async Task InlineMap_IterationError_FailsMapWithThatError()
    {
        var functions = new FunctionTable().Add("work", i => (int)i! == 3 ? throw new TensorChecksumException("bad crc") : i);
        var (result, execution, _) = await Asl.RunAsync(InlineMap(), Items(6), functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("TensorChecksumException", result.Error);
        var types = execution.History.Select(e => e.Type).ToList();
        Assert.Contains("MapIterationFailed", types);
        Assert.Contains("MapStateFailed", types);
    }

    private static FunctionTable FailingItems(params int[] failing)
        => new FunctionTable().Add("work", i => failing.Contains((int)i!) ? throw new TransientException($"item {i}") : JsonValue.Create((int)i! * 2));

    [Fact]
    public async Task DistributedMap_FailuresWithinToleratedPercentage_SucceedWithErrorObjectsInSlots()
    {
        var (result, execution, _) = await Asl.RunAsync(DistributedMap("\"ToleratedFailurePercentage\":20,"), Items(10), FailingItems(2, 7));
        Assert.Equal("SUCCEEDED", result.Status);
        var output = JsonNode.Parse(result.OutputJson!)!.AsArray();
        Assert.Equal(10, output.Count);
        Assert.Equal(2, (int)output[1]!);
        Assert.Equal("TransientException", (string?)output[2]!["Error"]);
        Assert.Contains("item 7", (string?)output[7]!["Cause"]);
        Assert.Equal(18, (int)output[9]!);
        var types = execution.History.Select(e => e.Type).ToList();
        Assert.Contains("MapRunStarted", types);
        Assert.Contains("MapRunSucceeded", types);
    }

    [Fact]
    public async Task DistributedMap_FailuresAboveToleratedPercentage_FailWithExceedToleratedFailureThreshold()
    {
        var (result, execution, _) = await Asl.RunAsync(DistributedMap("\"ToleratedFailurePercentage\":20,"), Items(10), FailingItems(1, 2, 7));
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.ExceedToleratedFailureThreshold", result.Error);
        var mapRunFailed = Assert.Single(execution.History, e => e.Type == "MapRunFailed");
        Assert.Equal("States.ExceedToleratedFailureThreshold", (string?)mapRunFailed.Details["error"]);
    }

    [Theory]
    [InlineData(2, new[] { 0, 5 }, "SUCCEEDED")]
    [InlineData(2, new[] { 0, 5, 9 }, "FAILED")]
    [InlineData(0, new[] { 4 }, "FAILED")]
    public async Task DistributedMap_ToleratedFailureCount_BothSidesOfThreshold(int tolerated, int[] failing, string expected)
    {
        var (result, _, _) = await Asl.RunAsync(DistributedMap($"\"ToleratedFailureCount\":{tolerated},"), Items(10), FailingItems(failing));
        Assert.Equal(expected, result.Status);
    }

    [Fact]
    public async Task DistributedMap_ToleranceFromPaths_IsReadFromInput()
    {
        var input = JsonNode.Parse(Items(4))!.AsObject();
        input["pct"] = 50;
        input["count"] = 1;
        var (ok, _, _) = await Asl.RunAsync(DistributedMap("\"ToleratedFailurePercentagePath\":\"$.pct\",\"ToleratedFailureCountPath\":\"$.count\","),
            input.ToJsonString(), FailingItems(3));
        Assert.Equal("SUCCEEDED", ok.Status);
        var (failed, _, _) = await Asl.RunAsync(DistributedMap("\"ToleratedFailurePercentagePath\":\"$.pct\",\"ToleratedFailureCountPath\":\"$.count\","),
            input.ToJsonString(), FailingItems(0, 3));
        Assert.Equal("States.ExceedToleratedFailureThreshold", failed.Error);
    }

    [Fact]
    public async Task DistributedMap_NoTolerance_AnyFailureFails()
    {
        var (result, _, _) = await Asl.RunAsync(DistributedMap(""), Items(5), FailingItems(4));
        Assert.Equal("States.ExceedToleratedFailureThreshold", result.Error);
    }

    [Fact]
    public async Task Map_ResultSelectorAndRetry_ApplyToWholeMap()
    {
        int calls = 0;
        var functions = new FunctionTable().Add("work", i =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new TransientException("first call fails");
            return i;
        });
        var output = await Asl.OutputAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
              "ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:work","End":true}}},
              "ResultSelector":{"count.$":"States.ArrayLength($)"},
              "Retry":[{"ErrorEquals":["TransientException"],"MaxAttempts":1}],"End":true}}}
            """, Items(3), functions);
        Asl.JsonEqual("""{"count":3}""", output);
        Assert.Equal(4, calls);
    }
}
