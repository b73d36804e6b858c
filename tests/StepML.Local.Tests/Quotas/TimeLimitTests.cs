using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

// Task TimeoutSeconds / HeartbeatSeconds, function timeouts and the EXPRESS child limit, proven in fractions of a
// second through LimitTimeScale. "slow" runs for the seconds its input asks (cancellable), then answers.
public sealed class TimeLimitTests
{
    private static FunctionTable Slow() => new FunctionTable().AddAsync("slow", async (input, ct) =>
    {
        await Task.Delay(TimeSpan.FromSeconds((double)input!["seconds"]!), ct);
        return JsonValue.Create("done");
    });

    private static LocalEngineOptions Scaled(double scale, IReadOnlyDictionary<string, FunctionLimits>? functions = null) => new()
    {
        WaitTimeScale = 0,
        LimitTimeScale = scale,
        Functions = functions ?? new Dictionary<string, FunctionLimits>(),
    };

    private static string Machine(string fields, string catchers = "") => """
        {"StartAt":"T","States":{
          "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow",@@fields@@"End":true}@@caught@@}}
        """.Replace("@@fields@@", fields + catchers, StringComparison.Ordinal)
           .Replace("@@caught@@", catchers.Length == 0 ? "" : ",\"Caught\":{\"Type\":\"Pass\",\"Result\":\"caught\",\"End\":true}", StringComparison.Ordinal);

    [Fact]
    public async Task TimeoutSeconds_TaskRunsLonger_FailsWithStatesTimeoutAndLambdaFunctionTimedOut()
    {
        // 100 s scaled by 0.005 is 0.5 s; the function needs 10 s.
        var (result, execution, _) = await Asl.RunAsync(Machine("\"TimeoutSeconds\":100,"), """{"seconds":10}""", Slow(), Scaled(0.005));

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Timeout", result.Error);
        Assert.Contains("100 seconds", result.Cause);
        Assert.Contains(execution.History, e => e.Type == "LambdaFunctionTimedOut");
    }

    [Fact]
    public async Task TimeoutSeconds_TaskEndsInTime_Succeeds()
    {
        var (result, _, _) = await Asl.RunAsync(Machine("\"TimeoutSeconds\":100,"), """{"seconds":0.05}""", Slow(), Scaled(0.005));

        Assert.Equal("SUCCEEDED", result.Status);
    }

    [Fact]
    public async Task TimeoutSecondsPath_SelectsTheLimitFromTheInput()
    {
        var (result, _, _) = await Asl.RunAsync(Machine("\"TimeoutSecondsPath\":\"$.limit\","), """{"seconds":10,"limit":50}""", Slow(), Scaled(0.005));

        Assert.Equal("States.Timeout", result.Error);
        Assert.Contains("50 seconds", result.Cause);
    }

    [Fact]
    public async Task HeartbeatSeconds_NoHeartbeatInTime_FailsWithHeartbeatTimeoutThatStatesTimeoutCatches()
    {
        var asl = Machine("\"TimeoutSeconds\":1000,\"HeartbeatSeconds\":100,",
            """ "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"},{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"Caught"}],""");

        var (result, execution, _) = await Asl.RunAsync(asl, """{"seconds":10}""", Slow(), Scaled(0.005));

        Assert.Equal("SUCCEEDED", result.Status);
        var timedOut = execution.History.Single(e => e.Type == "LambdaFunctionTimedOut");
        Assert.Equal("States.HeartbeatTimeout", (string)timedOut.Details["error"]!);
    }

    [Fact]
    public async Task FunctionTimeout_FunctionRunsPastItsConfiguredTimeout_FailsWithSandboxTimedoutAsATaskFailure()
    {
        var functions = new Dictionary<string, FunctionLimits> { ["slow"] = new(TimeoutSeconds: 60, MemoryMb: 512) };
        var asl = Machine("", """ "Catch":[{"ErrorEquals":["States.Timeout"],"Next":"Caught"}],""");

        var (result, execution, _) = await Asl.RunAsync(asl, """{"seconds":10}""", Slow(), Scaled(0.005, functions));

        // Lambda's own timeout is a function error: States.Timeout does not catch it.
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("Sandbox.Timedout", result.Error);
        Assert.Contains("60.00 seconds", result.Cause);
        Assert.Contains(execution.History, e => e.Type == "LambdaFunctionFailed");
    }

    [Fact]
    public async Task FunctionTimeout_ShorterTaskTimeoutWins()
    {
        var functions = new Dictionary<string, FunctionLimits> { ["slow"] = new(TimeoutSeconds: 120, MemoryMb: 512) };

        var (result, _, _) = await Asl.RunAsync(Machine("\"TimeoutSeconds\":60,"), """{"seconds":10}""", Slow(), Scaled(0.005, functions));

        Assert.Equal("States.Timeout", result.Error);
    }

    private static string DistributedMap(string executionType) => """
        {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
          "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"@@type@@"},
            "StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","End":true}}},
          "End":true}}}
        """.Replace("@@type@@", executionType, StringComparison.Ordinal);

    [Fact]
    public async Task ExpressChild_ItemRunsPastFiveMinutes_FailsTheItemWithStatesTimeout()
    {
        // 300 s scaled by 0.002 is 0.6 s: item 1 needs 3 s.
        var (result, execution, _) = await Asl.RunAsync(DistributedMap("EXPRESS"), """{"items":[{"seconds":0.01},{"seconds":3}]}""", Slow(), Scaled(0.002));

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.ExceedToleratedFailureThreshold", result.Error);
        Assert.Contains("item 1 failed with States.Timeout", result.Cause);
        Assert.Contains("EXPRESS child execution ran longer than 300 seconds", result.Cause);
        Assert.Single(execution.History, e => e.Type == "MapIterationFailed");
    }

    [Fact]
    public async Task StandardChild_SameItem_IsNotLimitedToFiveMinutes()
    {
        var (result, _, _) = await Asl.RunAsync(DistributedMap("STANDARD"), """{"items":[{"seconds":0.01},{"seconds":1}]}""", Slow(), Scaled(0.002));

        Assert.Equal("SUCCEEDED", result.Status);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void Options_LimitTimeScaleNotPositive_IsRejectedNamingTheOption(double scale)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LocalEngine(new FunctionTable(), new LocalEngineOptions { LimitTimeScale = scale }));

        Assert.Contains("LimitTimeScale", e.Message);
    }

    [Fact]
    public void Options_FunctionTimeoutAboveLambdaMaximum_IsRejected()
    {
        var options = new LocalEngineOptions { Functions = new Dictionary<string, FunctionLimits> { ["f"] = new(901, 1024) } };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LocalEngine(new FunctionTable(), options));

        Assert.Contains("Functions['f'].TimeoutSeconds is 901", e.Message);
    }
}
