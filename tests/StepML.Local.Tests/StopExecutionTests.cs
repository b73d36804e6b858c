namespace StepML.Local.Tests;

public sealed class StopExecutionTests
{
    [Fact]
    public async Task Stop_DuringRunningFunction_CancelsItAndEndsAborted()
    {
        var started = new TaskCompletionSource();
        bool sawCancellation = false;
        var functions = new FunctionTable().AddAsync("long", async (input, ct) =>
        {
            started.SetResult();
            try { await Task.Delay(TimeSpan.FromSeconds(30), ct); }
            catch (OperationCanceledException) { sawCancellation = true; throw; }
            return input;
        });
        var engine = new LocalEngine(functions, Asl.Fast);
        engine.Register(StateMachineDefinition.Parse("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:long","End":true}}},
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Never"}],"End":true},"Never":{"Type":"Succeed"}}}
            """, name: "Long"));
        var execution = engine.StartExecution("Long", "[1]");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        execution.Stop("User.Cancelled", "Ctrl+C");
        var result = await execution.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("ABORTED", result.Status);
        Assert.Equal("User.Cancelled", result.Error);
        Assert.True(sawCancellation);
        var last = execution.History[^1];
        Assert.Equal("ExecutionAborted", last.Type);
        Assert.Equal("Ctrl+C", (string?)last.Details["cause"]);
        Assert.DoesNotContain(execution.History, e => e.Type == "SucceedStateEntered");
    }

    [Fact]
    public async Task Stop_AfterCompletion_HasNoEffect()
    {
        var (result, execution, _) = await Asl.RunAsync("""{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""");
        execution.Stop();
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal("ExecutionSucceeded", execution.History[^1].Type);
    }
}
