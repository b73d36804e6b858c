using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class TaskIntegrationTests
{
    [Fact]
    public async Task LambdaInvoke_SendsPayloadAndWrapsResultInPayloadField()
    {
        JsonNode? received = null;
        var functions = new FunctionTable().Add("worker", input => { received = input; return new JsonObject { ["loss"] = 0.5 }; });
        var output = await Asl.OutputAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
              "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST","Payload":{"round.$":"$.round"}},
              "ResultSelector":{"loss.$":"$.Payload.loss","status.$":"$.StatusCode"},"End":true}}}
            """, """{"round":4}""", functions);
        Asl.JsonEqual("""{"round":4}""", received);
        Asl.JsonEqual("""{"loss":0.5,"status":200}""", output);
    }

    [Fact]
    public async Task LambdaInvoke_FunctionError_UsesExceptionShortNameAndLambdaCauseShape()
    {
        var functions = new FunctionTable().Add("worker", _ => throw new TensorChecksumException("checksum 0x1 != 0x2"));
        var (result, execution, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
              "Parameters":{"FunctionName":"worker","Payload.$":"$"},"End":true}}}
            """, "{}", functions);
        Assert.Equal("TensorChecksumException", result.Error);
        Asl.JsonEqual("""{"errorType":"TensorChecksumException","errorMessage":"checksum 0x1 != 0x2"}""", JsonNode.Parse(result.Cause!));
        var failed = Assert.Single(execution.History, e => e.Type == "TaskFailed");
        Assert.Equal("lambda", (string?)failed.Details["resourceType"]);
        Assert.Equal("invoke", (string?)failed.Details["resource"]);
    }

    [Fact]
    public async Task StartExecution_StartsSecondExecutionAndReturnsImmediately()
    {
        var release = new TaskCompletionSource();
        var functions = new FunctionTable().AddAsync("child-work", async (input, _) => { await release.Task; return input; });
        var engine = new LocalEngine(functions, Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:child-work","End":true}}}
            """, name: "Child"));
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"Continue","States":{"Continue":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
              "Parameters":{"StateMachineArn":"arn:aws:states:local:000000000000:stateMachine:Child",
                            "Input":{"round.$":"$.round","parent.$":"$$.Execution.Id"},"Name.$":"States.Format('next-{}', $.round)"},
              "End":true}}}
            """, name: "Parent"));
        var started = new List<string>();
        engine.ExecutionStarted += e => { lock (started) started.Add(e.Name); };

        var parent = engine.StartExecution("Parent", """{"round":8}""", "first");
        var parentResult = await parent.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("SUCCEEDED", parentResult.Status);
        var output = JsonNode.Parse(parentResult.OutputJson!)!;
        Assert.Equal("arn:aws:states:local:000000000000:execution:Child:next-8", (string?)output["ExecutionArn"]);
        Assert.NotNull(output["StartDate"]);
        var child = engine.Executions.Single(e => e.Name == "next-8");
        Assert.False(child.Completion.IsCompleted, "startExecution must not wait for the child (no .sync)");
        Assert.Equal(parent.ExecutionArn, child.ParentExecutionArn);
        release.SetResult();
        var childResult = await child.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("SUCCEEDED", childResult.Status);
        Asl.JsonEqual("""{"round":8,"parent":"arn:aws:states:local:000000000000:execution:Parent:first"}""", JsonNode.Parse(childResult.OutputJson!));
        Assert.Equal(["first", "next-8"], started);
        Assert.Equal(["first", "next-8"], engine.Executions.Select(e => e.Name).ToArray());
    }

    [Fact]
    public async Task StartExecution_StringInputAndUnknownMachine_AreHandled()
    {
        var engine = new LocalEngine(new FunctionTable(), Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""", name: "Child"));
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
              "Parameters":{"StateMachineArn.$":"$.arn","Input":"{\"a\":1}"},"End":true}}}
            """, name: "Parent"));
        var ok = await engine.StartExecution("Parent", """{"arn":"arn:aws:states:local:000000000000:stateMachine:Child"}""").Completion;
        Assert.Equal("SUCCEEDED", ok.Status);
        var child = engine.Executions.Single(e => e.StateMachineName == "Child");
        Asl.JsonEqual("""{"a":1}""", JsonNode.Parse((await child.Completion).OutputJson!));

        var missing = await engine.StartExecution("Parent", """{"arn":"arn:aws:states:local:000000000000:stateMachine:Nope"}""").Completion;
        Assert.Equal("StepFunctions.StateMachineDoesNotExistException", missing.Error);
    }

    [Fact]
    public async Task StartExecution_DuplicateName_FailsWithExecutionAlreadyExists()
    {
        var engine = new LocalEngine(new FunctionTable(), Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""", name: "Child"));
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
              "Parameters":{"StateMachineArn":"Child","Name":"same"},"End":true}}}
            """, name: "Parent"));
        Assert.Equal("SUCCEEDED", (await engine.StartExecution("Parent", "{}").Completion).Status);
        var second = await engine.StartExecution("Parent", "{}").Completion;
        Assert.Equal("StepFunctions.ExecutionAlreadyExistsException", second.Error);
        Assert.Throws<ExecutionNameException>(() => engine.StartExecution("Child", "{}", "same"));
    }

    [Fact]
    public async Task TimeoutSeconds_SlowFunction_FailsWithStatesTimeoutAndIsRetriable()
    {
        int calls = 0;
        var functions = new FunctionTable().AddAsync("slow", async (input, ct) =>
        {
            if (Interlocked.Increment(ref calls) == 1) await Task.Delay(TimeSpan.FromSeconds(30), ct);
            return input;
        });
        var (result, execution, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","TimeoutSeconds":1,
              "Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1}],"End":true}}}
            """, """{"ok":true}""", functions);
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(2, calls);
        var timedOut = Assert.Single(execution.History, e => e.Type == "LambdaFunctionTimedOut");
        Assert.Equal("States.Timeout", (string?)timedOut.Details["error"]);
    }

    [Fact]
    public async Task TimeoutSeconds_IsNotMatchedByTaskFailed()
    {
        var functions = new FunctionTable().AddAsync("slow", async (input, ct) => { await Task.Delay(TimeSpan.FromSeconds(30), ct); return input; });
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","TimeoutSeconds":1,
              "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}
            """, "{}", functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Timeout", result.Error);
    }

    [Fact]
    public async Task UnknownFunction_IsATaskFailure()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:missing","End":true}}}
            """);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("KeyNotFoundException", result.Error);
    }

    [Fact]
    public async Task StateExited_IsRaisedForTopLevelStatesOnlyWithFinalOutput()
    {
        var engine = new LocalEngine(new FunctionTable(), Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"A","States":{
              "A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"M"},
              "M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultPath":"$.m","OutputPath":"$.m","End":true}}}
            """, name: "M"));
        var exits = new List<StateExit>();
        engine.StateExited += (_, exit) => { lock (exits) exits.Add(exit); };
        await engine.StartExecution("M", """{"xs":[1,2]}""").Completion;
        Assert.Equal(["A", "M"], exits.Select(e => e.StateName).ToArray());
        Asl.JsonEqual("""{"xs":[1,2],"a":1}""", exits[0].Output);
        Asl.JsonEqual("[1,2]", exits[1].Output);
    }

    [Fact]
    public async Task StartExecution_ContinueAsNewOfTheSameMachine_ChainsExecutions()
    {
        var engine = new LocalEngine(new FunctionTable(), Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"Next round","States":{
              "Next round":{"Type":"Pass","Parameters":{"round.$":"States.MathAdd($.round, 1)"},"Next":"Done?"},
              "Done?":{"Type":"Choice","Choices":[{"Variable":"$.round","NumericGreaterThanEquals":3,"Next":"Done"}],"Default":"ContinueAsNew"},
              "ContinueAsNew":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
                "Parameters":{"StateMachineArn.$":"$$.StateMachine.Id","Input.$":"$","Name.$":"States.Format('run-round-{}', $.round)"},"End":true},
              "Done":{"Type":"Succeed"}}}
            """, name: "Train"));
        var first = engine.StartExecution("Train", """{"round":0}""", "run-round-0");
        Assert.Equal("SUCCEEDED", (await first.Completion).Status);

        Execution? last = null;
        for (int i = 0; i < 100 && (last = engine.Executions.LastOrDefault(e => e.Name == "run-round-2")) is null; i++) await Task.Delay(10);
        Assert.NotNull(last);
        var result = await last.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Asl.JsonEqual("""{"round":3}""", JsonNode.Parse(result.OutputJson!));
        Assert.Equal(["run-round-0", "run-round-1", "run-round-2"], engine.Executions.Select(e => e.Name).ToArray());
    }
}
