namespace StepML.Local.Tests;

public sealed class WaitTests
{
    [Theory]
    [InlineData("\"Seconds\":5", "{}", 5.0)]
    [InlineData("\"SecondsPath\":\"$.pause\"", """{"pause":7}""", 7.0)]
    public async Task Wait_Seconds_DelaysScaledByWaitTimeScale(string field, string input, double expectedSeconds)
    {
        var time = new RecordingTimeProvider();
        var (result, execution, _) = await Asl.RunAsync("""{"StartAt":"W","States":{"W":{"Type":"Wait",@@field@@,"End":true}}}""".Replace("@@field@@", field), input, null,
            new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 0.01 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(expectedSeconds * 0.01, Assert.Single(time.Delays).TotalSeconds, 6);
        Assert.Equal(["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"], execution.History.Select(e => e.Type).ToArray());
    }

    [Fact]
    public async Task Wait_TimestampPath_WaitsUntilThatTime()
    {
        var time = new RecordingTimeProvider();
        var target = DateTimeOffset.UtcNow.AddSeconds(100).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        var (result, _, _) = await Asl.RunAsync("""{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.until","End":true}}}""",
            """{"until":"@@target@@"}""".Replace("@@target@@", target), null, new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 1 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.InRange(Assert.Single(time.Delays).TotalSeconds, 95, 100);
    }

    [Fact]
    public async Task Wait_TimestampInThePast_DoesNotWait()
    {
        var time = new RecordingTimeProvider();
        var (result, _, _) = await Asl.RunAsync("""{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2001-01-01T00:00:00Z","End":true}}}""",
            "{}", null, new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 1 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task Wait_SecondsPathNotANumber_FailsWithRuntimeError()
    {
        var (result, _, _) = await Asl.RunAsync("""{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.pause","End":true}}}""", """{"pause":"soon"}""");
        Assert.Equal("States.Runtime", result.Error);
        Assert.Contains("SecondsPath", result.Cause);
    }
}
