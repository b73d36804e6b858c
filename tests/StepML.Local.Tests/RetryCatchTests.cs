using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class TensorChecksumException(string message) : Exception(message);

public sealed class TransientException(string message) : Exception(message);

public sealed class RetryCatchTests
{
    // A function that throws TException on its first failures calls.
    private static FunctionTable FailingTimes<TException>(int failures, Func<string, TException> make, out Func<int> attempts) where TException : Exception
    {
        int calls = 0;
        attempts = () => Volatile.Read(ref calls);
        return new FunctionTable().Add("flaky", input =>
        {
            int n = Interlocked.Increment(ref calls);
            if (n <= failures) throw make($"attempt {n} failed");
            return new JsonObject { ["attempt"] = n };
        });
    }

    private const string RetryMachine = """
        {"StartAt":"T","States":{
          "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
               "Retry":[{"ErrorEquals":["TransientException"],"IntervalSeconds":2,"MaxAttempts":3,"BackoffRate":3.0}],
               "End":true}}}
        """;

    [Fact]
    public async Task Retry_FailsTwiceThenSucceeds_ThreeAttempts()
    {
        var functions = FailingTimes(2, m => new TransientException(m), out var attempts);
        var (result, _, _) = await Asl.RunAsync(RetryMachine, "{}", functions);
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(3, attempts());
        Asl.JsonEqual("""{"attempt":3}""", JsonNode.Parse(result.OutputJson!));
    }

    [Fact]
    public async Task Retry_MaxAttemptsExhausted_FailsWithFunctionErrorAfterOnePlusMaxAttempts()
    {
        var functions = FailingTimes(10, m => new TransientException(m), out var attempts);
        var (result, _, _) = await Asl.RunAsync(RetryMachine, "{}", functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal(4, attempts());
        Assert.Equal("TransientException", result.Error);
        var cause = JsonNode.Parse(result.Cause!)!;
        Assert.Equal("TransientException", (string?)cause["errorType"]);
        Assert.Equal("attempt 4 failed", (string?)cause["errorMessage"]);
    }

    [Fact]
    public async Task Retry_DelaysFollowIntervalTimesBackoffPower()
    {
        var time = new RecordingTimeProvider();
        var functions = FailingTimes(3, m => new TransientException(m), out _);
        var (result, _, _) = await Asl.RunAsync(RetryMachine, "{}", functions, new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 1 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal([2.0, 6.0, 18.0], time.Delays.Select(d => d.TotalSeconds).ToArray());
    }

    [Fact]
    public async Task Retry_MaxDelaySecondsCapsBackoffAndWaitTimeScaleScales()
    {
        var time = new RecordingTimeProvider();
        var functions = FailingTimes(4, m => new TransientException(m), out _);
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
              "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":5,"MaxDelaySeconds":3}],"End":true}}}
            """, "{}", functions, new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 0.5 });
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal([0.5, 1.0, 1.5, 1.5], time.Delays.Select(d => d.TotalSeconds).ToArray());
    }

    [Fact]
    public async Task Retry_FullJitter_DelaysAreWithinZeroAndTheBackoffDelay()
    {
        var time = new RecordingTimeProvider();
        var functions = FailingTimes(3, m => new TransientException(m), out _);
        await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
              "Retry":[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":4,"MaxAttempts":3,"JitterStrategy":"FULL"}],"End":true}}}
            """, "{}", functions, new LocalEngineOptions { TimeProvider = time, WaitTimeScale = 1 });
        var delays = time.Delays.Select(d => d.TotalSeconds).ToArray();
        Assert.Equal(3, delays.Length);
        Assert.InRange(delays[0], 0, 4);
        Assert.InRange(delays[1], 0, 8);
        Assert.InRange(delays[2], 0, 16);
        Assert.False(delays.SequenceEqual([4.0, 8.0, 16.0]), "FULL jitter should not reproduce the un-jittered delays");
    }

    [Fact]
    public async Task Retry_MaxAttemptsZero_NeverRetries()
    {
        var functions = FailingTimes(1, m => new TransientException(m), out var attempts);
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
              "Retry":[{"ErrorEquals":["TransientException"],"MaxAttempts":0}],"End":true}}}
            """, "{}", functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal(1, attempts());
    }

    [Fact]
    public async Task Retry_OnlyFirstMatchingRetrierApplies_AndUnmatchedErrorsAreNotRetried()
    {
        var functions = FailingTimes(5, m => new TensorChecksumException(m), out var attempts);
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
              "Retry":[{"ErrorEquals":["TransientException"],"MaxAttempts":5},
                       {"ErrorEquals":["TensorChecksumException"],"MaxAttempts":1},
                       {"ErrorEquals":["States.ALL"],"MaxAttempts":9}],"End":true}}}
            """, "{}", functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("TensorChecksumException", result.Error);
        Assert.Equal(2, attempts());
    }

    [Fact]
    public async Task RetryCount_IsVisibleInContextObject()
    {
        var seen = new List<int>();
        var functions = new FunctionTable().Add("f", input =>
        {
            int retry = (int)input!["retry"]!;
            lock (seen) seen.Add(retry);
            if (retry < 2) throw new TransientException("again");
            return input;
        });
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:f",
              "Parameters":{"retry.$":"$$.State.RetryCount"},
              "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],"End":true}}}
            """, "{}", functions);
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public async Task Catch_RoutesByErrorName_WithDefaultResultPathReplacingInput()
    {
        var functions = new FunctionTable().Add("bad", _ => throw new TensorChecksumException("crc mismatch in stats/3.tensor"));
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:bad",
                   "Catch":[{"ErrorEquals":["TransientException"],"Next":"Wrong"},
                            {"ErrorEquals":["TensorChecksumException"],"Next":"Handled"}],"End":true},
              "Wrong":{"Type":"Fail","Error":"Wrong"},
              "Handled":{"Type":"Pass","End":true}}}
            """, """{"job":"x"}""", functions);
        Assert.Equal("TensorChecksumException", (string?)output!["Error"]);
        var cause = JsonNode.Parse((string)output["Cause"]!)!;
        Assert.Equal("TensorChecksumException", (string?)cause["errorType"]);
        Assert.Equal("crc mismatch in stats/3.tensor", (string?)cause["errorMessage"]);
        Assert.Null(output["job"]);
    }

    [Fact]
    public async Task Catch_ResultPath_KeepsInputAndAddsError()
    {
        var functions = new FunctionTable().Add("bad", _ => throw new InvalidOperationException("boom"));
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:bad",
                   "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Handled"}],"End":true},
              "Handled":{"Type":"Pass","End":true}}}
            """, """{"job":"x"}""", functions);
        Assert.Equal("x", (string?)output!["job"]);
        Assert.Equal("InvalidOperationException", (string?)output["error"]!["Error"]);
    }

    [Fact]
    public async Task Catch_AfterRetriesExhausted_IsUsed()
    {
        var functions = FailingTimes(10, m => new TransientException(m), out var attempts);
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:flaky",
                   "Retry":[{"ErrorEquals":["TransientException"],"MaxAttempts":2}],
                   "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":null,"Next":"Handled"}],"End":true},
              "Handled":{"Type":"Pass","Result":"handled","End":true}}}
            """, "{}", functions);
        Assert.Equal("handled", (string)output!);
        Assert.Equal(3, attempts());
    }

    [Fact]
    public async Task FailState_ErrorPathAndCausePath_ComeFromInput()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('round {} diverged', $.round)"}}}
            """, """{"e":"TrainingDivergedException","round":7}""");
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("TrainingDivergedException", result.Error);
        Assert.Equal("round 7 diverged", result.Cause);
    }

    [Fact]
    public async Task FailState_InsideMap_IsCaughtByTheMapsCatch()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"M","States":{
              "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Custom.Error","Cause":"item failed"}}},
                   "Catch":[{"ErrorEquals":["Custom.Error"],"ResultPath":"$.err","Next":"Done"}],"End":true},
              "Done":{"Type":"Pass","OutputPath":"$.err","End":true}}}
            """, """{"items":[1,2]}""");
        Asl.JsonEqual("""{"Error":"Custom.Error","Cause":"item failed"}""", output);
    }
}
