namespace StepML.Local.Tests;

public sealed class ValidationTests
{
    private static AslValidationException Reject(string asl, IReadOnlyDictionary<string, string>? substitutions = null)
        => Assert.Throws<AslValidationException>(() => StateMachineDefinition.Parse(asl, substitutions));

    [Theory]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Wizard","End":true}}}""", "'A'", "Type")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Pass"}}}""", "'A'", "Next")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Ghost"}}}""", "'A'", "Ghost")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}}""", "'A'", "End")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Pass","Bogus":1,"End":true}}}""", "'A'", "Bogus")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}""", "'A'", "Resource")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}""", "'A'", "Parameters")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}""", "'A'", "HeartbeatSeconds")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "ItemReader")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ResultWriter":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "ResultWriter")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "ItemBatcher")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","Label":"x","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "Label")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "ToleratedFailureCount")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Outside"}}},"End":true},"Outside":{"Type":"Succeed"}}}""", "'P'", "Outside")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"SIDEWAYS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "Mode")]
    [InlineData("""{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEqualz":1,"Next":"S"}]},"S":{"Type":"Succeed"}}}""", "'C'", "NumericEqualz")]
    [InlineData("""{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"S"}]},"S":{"Type":"Succeed"}}}""", "'C'", "Choices[0].NumericEquals")]
    [InlineData("""{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"S"}],"Default":"Nowhere"},"S":{"Type":"Succeed"}}}""", "'C'", "Default")]
    [InlineData("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}""", "'T'", "Retry[0].ErrorEquals")]
    [InlineData("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"T"},{"ErrorEquals":["X"],"Next":"T"}],"End":true}}}""", "'T'", "Catch[0].ErrorEquals")]
    [InlineData("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"SOME"}],"End":true}}}""", "'T'", "Retry[0].JitterStrategy")]
    [InlineData("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}""", "'T'", "Retry[0].BackoffRate")]
    [InlineData("""{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}""", "'P'", "ResultPath")]
    [InlineData("""{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$..deep","End":true}}}""", "'P'", "InputPath")]
    [InlineData("""{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.a[*].b","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""", "'M'", "ItemsPath")]
    [InlineData("""{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"nope"},"End":true}}}""", "'P'", "Parameters.x.$")]
    [InlineData("""{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}""", "'W'", "Seconds")]
    [InlineData("""{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}""", "'F'", "ErrorPath")]
    [InlineData("""{"StartAt":"F","States":{"F":{"Type":"Fail","Next":"F"}}}""", "'F'", "Next")]
    [InlineData("""{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}""", "State machine", "StartAt")]
    [InlineData("""{"StartAt":"A","States":{"A":{"Type":"Succeed"},"Orphan":{"Type":"Succeed"}}}""", "'Orphan'", "not reachable")]
    [InlineData("""{"StartAt":"A","QueryLanguage":"JSONata","States":{"A":{"Type":"Succeed"}}}""", "State machine", "QueryLanguage")]
    public void Parse_InvalidDefinition_NamesStateAndField(string asl, string state, string field)
    {
        var e = Reject(asl);
        Assert.Contains(state, e.Message);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Parse_Substitutions_AreReplacedBeforeParsing()
    {
        var definition = StateMachineDefinition.Parse("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${WorkerArn}","End":true}}}
            """, new Dictionary<string, string> { ["WorkerArn"] = "arn:aws:lambda:us-east-1:1:function:worker" }, "Train");
        Assert.Contains("function:worker", definition.Json);
        Assert.Equal("arn:aws:states:local:000000000000:stateMachine:Train", definition.StateMachineArn);
    }

    [Fact]
    public void Parse_UnresolvedSubstitution_NamesIt()
    {
        var e = Reject("""
            {"StartAt":"T",
             "States":{"T":{"Type":"Task","Resource":"${WorkerArn}","Next":"U"},"U":{"Type":"Task","Resource":"${MergeArn}","End":true}}}
            """, new Dictionary<string, string> { ["Other"] = "x" });
        Assert.Contains("${WorkerArn}", e.Message);
        Assert.Contains("MergeArn", e.Message);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Parse_InvalidJson_ReportsLine()
    {
        var e = Reject("{\n\"StartAt\": \"A\",\n\"States\": {,}\n}");
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Parse_FullFeaturedMachine_IsAccepted()
    {
        var definition = StateMachineDefinition.Parse("""
            {"Comment":"all supported features","StartAt":"Prepare","States":{
              "Prepare":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"prepare","Payload.$":"$"},
                         "ResultSelector":{"state.$":"$.Payload"},"ResultPath":"$.prepared","OutputPath":"$.prepared.state",
                         "TimeoutSeconds":900,"Retry":[{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":2,"MaxAttempts":6,"BackoffRate":2,"MaxDelaySeconds":30,"JitterStrategy":"FULL"}],
                         "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"RecordFailure"}],"Next":"Workers"},
              "Workers":{"Type":"Map","ItemsPath":"$.partitions","MaxConcurrencyPath":"$.concurrency","ToleratedFailurePercentagePath":"$.tolerance",
                         "ItemSelector":{"partition.$":"$$.Map.Item.Value","round.$":"$.round"},
                         "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"Work",
                           "States":{"Work":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:worker","End":true}}},
                         "ResultPath":"$.workers","Next":"Wait"},
              "Wait":{"Type":"Wait","SecondsPath":"$.pause","Next":"Both"},
              "Both":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}],"ResultPath":null,"Next":"Converged?"},
              "Converged?":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.done","IsPresent":true},{"Variable":"$.done","BooleanEquals":true}],"Next":"Done"}],"Default":"Continue"},
              "Continue":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Parameters":{"StateMachineArn.$":"$$.StateMachine.Id","Input.$":"$"},"End":true},
              "Done":{"Type":"Succeed"},
              "RecordFailure":{"Type":"Fail","ErrorPath":"$.error.Error","CausePath":"$.error.Cause"}}}
            """);
        Assert.Equal("StateMachine", definition.Name);
    }
}
