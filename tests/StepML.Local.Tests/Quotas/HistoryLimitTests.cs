using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

// The 25,000-event history quota (AWS, "Avoid reaching the history quota"): event 25,000 may only be
// ExecutionSucceeded; otherwise ExecutionFailed (States.Runtime) is event 25,000.
public sealed class HistoryLimitTests
{
    // ExecutionStarted, then 4 events per loop (Pass and Choice entered/exited), Succeed entered/exited, ExecutionSucceeded:
    // 4 + 4 × loops events in all.
    private static string Loop(int loops) => """
        {"StartAt":"Inc","States":{
          "Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Again?"},
          "Again?":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":@@loops@@,"Next":"Inc"}],"Default":"Done"},
          "Done":{"Type":"Succeed"}}}
        """.Replace("@@loops@@", loops.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    [Fact]
    public async Task History_ExactlyAtTheQuotaEndingInExecutionSucceeded_Succeeds()
    {
        var (result, execution, _) = await Asl.RunAsync(Loop(6249), """{"i":0}""");

        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(25_000, execution.History.Count);
    }

    [Fact]
    public async Task History_OneLoopPastTheQuota_FailsWithStatesRuntimeAsEvent25000()
    {
        var (result, execution, _) = await Asl.RunAsync(Loop(6250), """{"i":0}""");

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Runtime", result.Error);
        Assert.Equal("The execution reached the maximum number of history events (25000).", result.Cause);
        var last = execution.History[^1];
        Assert.Equal(("ExecutionFailed", 25_000L, 24_999L), (last.Type, last.Id, last.PreviousEventId));
    }

    [Fact]
    public async Task History_QuotaReached_StatesAllCannotCatchIt()
    {
        var asl = """
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],
              "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true},
              "Caught":{"Type":"Succeed"}}}
            """;

        var (result, _, _) = await Asl.RunAsync(asl, $$"""{"items":[{{string.Join(',', Enumerable.Range(0, 40))}}]}""", options: new LocalEngineOptions { WaitTimeScale = 0, MaxHistoryEvents = 50 });

        Assert.Equal("States.Runtime", result.Error);
    }

    private static string Map(string mode) => """
        {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
          "ItemProcessor":{"ProcessorConfig":{"Mode":"@@mode@@","ExecutionType":"EXPRESS"},
            "StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:echo","End":true}}},
          "End":true}}}
        """.Replace("@@mode@@", mode, StringComparison.Ordinal).Replace(",\"ExecutionType\":\"EXPRESS\"", mode == "INLINE" ? "" : ",\"ExecutionType\":\"EXPRESS\"", StringComparison.Ordinal);

    [Theory]
    [InlineData("DISTRIBUTED", "SUCCEEDED")]
    [InlineData("INLINE", "FAILED")]
    public async Task History_DistributedChildrenKeepTheirOwnHistories(string mode, string expected)
    {
        // 20 items × 7 events each: over a 60-event quota inline, but the parent of a Distributed Map records only the MapRun.
        var functions = new FunctionTable().Add("echo", i => i);
        var options = new LocalEngineOptions { WaitTimeScale = 0, MaxHistoryEvents = 60 };

        var (result, _, _) = await Asl.RunAsync(Map(mode), $$"""{"items":[{{string.Join(',', Enumerable.Range(0, 20))}}]}""", functions, options);

        Assert.Equal(expected, result.Status);
    }

    [Fact]
    public async Task QuotaEvents_DistributedMap_CountsOnlyTheParentsEvents()
    {
        var functions = new FunctionTable().Add("echo", i => i);

        var (_, execution, _) = await Asl.RunAsync(Map("DISTRIBUTED"), """{"items":[1,2,3]}""", functions);

        // ExecutionStarted, MapStateEntered, MapStateStarted, MapRunStarted, MapRunSucceeded, MapStateSucceeded, MapStateExited, ExecutionSucceeded.
        Assert.Equal(8, execution.QuotaEvents);
        Assert.Equal(8 + 3 * 7, execution.History.Count);
    }
}
