using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

// arn:aws:states:::states:startExecution.sync and .sync:2: the nested-workflow integration the search machine uses to
// run trials of the training machine.
public class StartExecutionSyncTests
{
    private const string ChildArn = "arn:aws:states:local:000000000000:stateMachine:Child";

    private static LocalEngine Engine(FunctionTable functions, string childAsl, string parentAsl, LocalEngineOptions? options = null)
    {
        var engine = new LocalEngine(functions, options ?? Asl.Fast);
        engine.Register(StateMachineDefinition.Parse(childAsl, name: "Child"));
        engine.Register(StateMachineDefinition.Parse(parentAsl, name: "Parent"));
        return engine;
    }

    private static string Parent(string resource, string extra = "") => $$$$"""
        {"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"{{{{resource}}}}",
          "Parameters":{"StateMachineArn":"{{{{ChildArn}}}}","Input":{"x.$":"$.x"},"Name.$":"States.Format('child-{}', $.x)"}{{{{extra}}}},
          "End":true}}}
        """;

    [Fact]
    public async Task StartExecutionSync2_ChildSucceeds_WaitsAndReturnsOutputAsJson()
    {
        var release = new TaskCompletionSource();
        var functions = new FunctionTable().AddAsync("double", async (input, _) =>
        {
            await release.Task;
            return new JsonObject { ["y"] = (int)input!["x"]! * 2 };
        });
        var engine = Engine(functions,
            """{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:double","End":true}}}""",
            Parent("arn:aws:states:::states:startExecution.sync:2"));

        var parent = engine.StartExecution("Parent", """{"x":21}""", "p");
        await Task.Delay(100);
        Assert.False(parent.Completion.IsCompleted, ".sync:2 must wait for the child");
        release.SetResult();
        var result = await parent.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("SUCCEEDED", result.Status);
        var output = JsonNode.Parse(result.OutputJson!)!;
        Asl.JsonEqual("""{"y":42}""", output["Output"]);
        Asl.JsonEqual("""{"x":21}""", output["Input"]);
        Assert.Equal("SUCCEEDED", (string?)output["Status"]);
        Assert.Equal("child-21", (string?)output["Name"]);
        Assert.Equal("arn:aws:states:local:000000000000:execution:Child:child-21", (string?)output["ExecutionArn"]);
        Assert.Equal(ChildArn, (string?)output["StateMachineArn"]);
        Assert.True((long)output["StopDate"]! >= (long)output["StartDate"]!);
        Assert.Equal(parent.ExecutionArn, engine.Executions.Single(e => e.Name == "child-21").ParentExecutionArn);
        var scheduled = Assert.Single(parent.History, e => e.Type == "TaskScheduled");
        Assert.Equal("startExecution.sync:2", (string?)scheduled.Details["resource"]);
    }

    [Fact]
    public async Task StartExecutionSync_ChildSucceeds_ReturnsOutputAsString()
    {
        var engine = Engine(new FunctionTable(), """{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"done":true},"End":true}}}""",
            Parent("arn:aws:states:::states:startExecution.sync"));
        var result = await engine.StartExecution("Parent", """{"x":1}""").Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("SUCCEEDED", result.Status);
        var output = JsonNode.Parse(result.OutputJson!)!;
        Assert.Equal("""{"done":true}""", (string?)output["Output"]);
        Assert.Equal("""{"x":1}""", (string?)output["Input"]);
    }

    [Fact]
    public async Task StartExecutionSync2_ChildFails_TaskFailedCarriesChildErrorAndIsCaught()
    {
        var engine = Engine(new FunctionTable(), """{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"TrainingDivergedException","Cause":"loss is NaN"}}}""",
            Parent("arn:aws:states:::states:startExecution.sync:2",
                ""","Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Caught"}]""").Replace("\"End\":true}}}", "\"End\":true},\"Caught\":{\"Type\":\"Pass\",\"End\":true}}}"));
        var result = await engine.StartExecution("Parent", """{"x":3}""").Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("SUCCEEDED", result.Status);
        var error = JsonNode.Parse(result.OutputJson!)!["error"]!;
        Assert.Equal("States.TaskFailed", (string?)error["Error"]);
        var cause = JsonNode.Parse((string)error["Cause"]!)!;
        Assert.Equal("FAILED", (string?)cause["Status"]);
        Assert.Equal("TrainingDivergedException", (string?)cause["Error"]);
        Assert.Equal("loss is NaN", (string?)cause["Cause"]);
        Assert.Null(cause["Output"]);
    }

    [Fact]
    public async Task StartExecutionSync2_TimeoutSeconds_StopsChildWithStatesTimeout()
    {
        var functions = new FunctionTable().AddAsync("slow", async (input, ct) => { await Task.Delay(TimeSpan.FromSeconds(30), ct); return input; });
        var engine = Engine(functions,
            """{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","End":true}}}""",
            Parent("arn:aws:states:::states:startExecution.sync:2", ""","TimeoutSeconds":1"""));
        var result = await engine.StartExecution("Parent", """{"x":5}""").Completion.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.Timeout", result.Error);
        var child = await engine.Executions.Single(e => e.Name == "child-5").Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("ABORTED", child.Status);
    }

    [Fact]
    public async Task StartExecutionSync2_ParentStopped_StopsChild()
    {
        var started = new TaskCompletionSource();
        var functions = new FunctionTable().AddAsync("slow", async (input, ct) => { started.TrySetResult(); await Task.Delay(TimeSpan.FromSeconds(30), ct); return input; });
        var engine = Engine(functions,
            """{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","End":true}}}""",
            Parent("arn:aws:states:::states:startExecution.sync:2"));
        var parent = engine.StartExecution("Parent", """{"x":6}""");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        parent.Stop();

        Assert.Equal("ABORTED", (await parent.Completion.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.Equal("ABORTED", (await engine.Executions.Single(e => e.Name == "child-6").Completion.WaitAsync(TimeSpan.FromSeconds(10))).Status);
    }

    [Fact]
    public async Task StartExecutionSync2_MapOfChildrenWithMaps_OneSlot_DoesNotDeadlock()
    {
        // One engine slot: the parent's Map iteration lends it to the child's Map while it waits for the child.
        var functions = new FunctionTable().Add("id", input => input);
        var engine = Engine(functions, """
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"W","States":{
              "W":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:id","End":true}}},"End":true}}}
            """, """
            {"StartAt":"Trials","States":{"Trials":{"Type":"Map","ItemsPath":"$.trials","MaxConcurrency":2,"ItemProcessor":{"StartAt":"Run","States":{
              "Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
                "Parameters":{"StateMachineArn":"Child","Input":{"items.$":"$.items"}},"ResultSelector":{"out.$":"$.Output"},"End":true}}},"End":true}}}
            """, new LocalEngineOptions { WaitTimeScale = 0, MaxConcurrency = 1 });
        var result = await engine.StartExecution("Parent", """{"trials":[{"items":[1,2]},{"items":[3]},{"items":[4,5,6]}]}""").Completion.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("SUCCEEDED", result.Status);
        Asl.JsonEqual("""[{"out":[1,2]},{"out":[3]},{"out":[4,5,6]}]""", JsonNode.Parse(result.OutputJson!));
    }

    [Fact]
    public void Parse_WaitForTaskToken_IsStillRejected()
    {
        var e = Assert.Throws<AslValidationException>(() => StateMachineDefinition.Parse($$$$"""
            {"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",
              "Parameters":{"StateMachineArn":"{{{{ChildArn}}}}"},"End":true}}}
            """));
        Assert.Contains("startExecution.sync:2", e.Message);
    }
}
