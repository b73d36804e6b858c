using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class InputOutputProcessingTests
{
    // Example input from the AWS "InputPath, Parameters and ResultSelector" documentation.
    private const string DocsInput = """
        {"comment":"Example for InputPath.","dataset1":{"val1":1,"val2":2,"val3":3},"dataset2":{"val1":"a","val2":"b","val3":"c"}}
        """;

    [Fact]
    public async Task InputPath_SelectsDataset_LikeTheAwsDocsExample()
    {
        var output = await Asl.OutputAsync("""{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.dataset2","End":true}}}""", DocsInput);
        Asl.JsonEqual("""{"val1":"a","val2":"b","val3":"c"}""", output);
    }

    [Fact]
    public async Task ResultPath_AddsTaskResultToInput_LikeTheAwsDocsExample()
    {
        var functions = new FunctionTable().Add("HelloFunction", input => JsonValue.Create($"Hello, {input!["who"]}!"));
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:HelloFunction",
              "ResultPath":"$.taskresult","End":true}}}
            """, """{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}""", functions);
        Asl.JsonEqual("""
            {"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions",
             "taskresult":"Hello, AWS Step Functions!"}
            """, output);
    }

    [Fact]
    public async Task ResultPath_Null_DiscardsResultAndKeepsInput()
    {
        var functions = new FunctionTable().Add("f", _ => JsonNode.Parse("""{"big":"result"}"""));
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:f","ResultPath":null,"End":true}}}
            """, """{"keep":1}""", functions);
        Asl.JsonEqual("""{"keep":1}""", output);
    }

    [Fact]
    public async Task ResultPath_NestedMissingFields_AreCreated()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.a.b.c","End":true}}}
            """, """{"a":{"other":true}}""");
        Asl.JsonEqual("""{"a":{"other":true,"b":{"c":{"x":1}}}}""", output);
    }

    [Fact]
    public async Task ResultPath_IntoAScalarField_FailsWithResultPathMatchFailure()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}
            """, """{"a":"text"}""");
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.ResultPathMatchFailure", result.Error);
    }

    [Fact]
    public async Task Pass_WithoutResultAndResultPath_CopiesEffectiveInputWithoutCycles()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$.copy","End":true}}}
            """, """{"v":1}""");
        Asl.JsonEqual("""{"v":1,"copy":{"v":1}}""", output);
    }

    [Fact]
    public async Task ParametersResultSelectorResultPathOutputPath_ApplyInDocumentedOrder()
    {
        var functions = new FunctionTable().Add("f", input => new JsonObject
        {
            ["echo"] = input!.DeepClone(),
            ["metadata"] = new JsonObject { ["requestId"] = "r-1", ["noise"] = new JsonArray(1, 2, 3) },
        });
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:f",
              "InputPath":"$.job",
              "Parameters":{"constant":"c","name.$":"$.name","exec.$":"$$.Execution.Name","state.$":"$$.State.Name"},
              "ResultSelector":{"sent.$":"$.echo","id.$":"$.metadata.requestId"},
              "ResultPath":"$.result",
              "OutputPath":"$.result",
              "End":true}}}
            """, """{"job":{"name":"higgs","skip":1},"other":2}""", functions);
        Asl.JsonEqual("""{"sent":{"constant":"c","name":"higgs","exec":"run-1","state":"T"},"id":"r-1"}""", output);
    }

    [Fact]
    public async Task InputPathAndOutputPath_Null_GiveEmptyObjects()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"A","States":{
              "A":{"Type":"Pass","InputPath":null,"ResultPath":"$.seen","Next":"B"},
              "B":{"Type":"Pass","OutputPath":null,"End":true}}}
            """, """{"x":1}""");
        Asl.JsonEqual("{}", output);
    }

    [Fact]
    public async Task InputPath_AfterNullInputPath_SeesEmptyObjectAsResult()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"ResultPath":"$.seen","End":true}}}
            """, """{"x":1}""");
        Asl.JsonEqual("""{"x":1,"seen":{}}""", output);
    }

    [Fact]
    public async Task WildcardPath_CollectsFieldOfEveryArrayElement()
    {
        var output = await Asl.OutputAsync(Asl.PassWithParameters("""{"partitions.$":"$.workers[*].partition","first.$":"$.workers[0].partition","quoted.$":"$['workers'][1]['partition']"}"""),
            """{"workers":[{"partition":3},{"partition":1},{"partition":2}]}""");
        Asl.JsonEqual("""{"partitions":[3,1,2],"first":3,"quoted":1}""", output);
    }

    [Fact]
    public async Task ContextObject_ExposesExecutionStateMachineAndState()
    {
        var (result, execution, _) = await Asl.RunAsync(Asl.PassWithParameters("""
            {"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","input.$":"$$.Execution.Input","start.$":"$$.Execution.StartTime",
             "machine.$":"$$.StateMachine.Id","machineName.$":"$$.StateMachine.Name","state.$":"$$.State.Name",
             "entered.$":"$$.State.EnteredTime","retries.$":"$$.State.RetryCount","deep.$":"$$.Execution.Input.a.b"}
            """), """{"a":{"b":42}}""");
        var output = JsonNode.Parse(result.OutputJson!)!;
        Assert.Equal("arn:aws:states:local:000000000000:execution:Test:run-1", (string?)output["id"]);
        Assert.Equal(execution.ExecutionArn, (string?)output["id"]);
        Assert.Equal("run-1", (string?)output["name"]);
        Asl.JsonEqual("""{"a":{"b":42}}""", output["input"]);
        Assert.Equal(42, (int)output["deep"]!);
        Assert.Equal("arn:aws:states:local:000000000000:stateMachine:Test", (string?)output["machine"]);
        Assert.Equal("Test", (string?)output["machineName"]);
        Assert.Equal("P", (string?)output["state"]);
        Assert.Equal(0, (int)output["retries"]!);
        Assert.True(DateTimeOffset.TryParse((string?)output["start"], out _));
        Assert.True(DateTimeOffset.TryParse((string?)output["entered"], out _));
    }

    [Fact]
    public async Task ParametersPath_MissingField_FailsWithStatesRuntimeNamingThePath()
    {
        var (result, _, _) = await Asl.RunAsync(Asl.PassWithParameters("""{"x.$":"$.missing"}"""), """{"present":1}""");
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Runtime", result.Error);
        Assert.Contains("$.missing", result.Cause);
        Assert.Contains("x.$", result.Cause);
    }

    [Fact]
    public async Task StatesRuntime_IsNotCaughtByStatesAll()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:f","InputPath":"$.nope",
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
              "Caught":{"Type":"Succeed"}}}
            """, "{}", new FunctionTable().Add("f", i => i));
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Runtime", result.Error);
    }

    [Fact]
    public async Task ExecutionInput_IsNotMutatedByResultPath()
    {
        var (result, execution, _) = await Asl.RunAsync("""
            {"StartAt":"A","States":{
              "A":{"Type":"Pass","Result":"x","ResultPath":"$.added","Next":"B"},
              "B":{"Type":"Pass","Parameters":{"original.$":"$$.Execution.Input"},"End":true}}}
            """, """{"v":1}""");
        Asl.JsonEqual("""{"original":{"v":1}}""", JsonNode.Parse(result.OutputJson!));
        Asl.JsonEqual("""{"v":1}""", JsonNode.Parse(execution.InputJson));
    }
}
