using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class ParallelTests
{
    [Fact]
    public async Task Parallel_BranchesGetTheInputAndResultsAreInBranchOrder()
    {
        var functions = new FunctionTable()
            .AddAsync("slow", async (i, ct) => { await Task.Delay(40, ct); return JsonValue.Create("slow:" + (int)i!["x"]!); })
            .Add("fast", i => JsonValue.Create("fast:" + (int)i!["x"]!));
        var output = await Asl.OutputAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Parallel","ResultPath":"$.branches","End":true,"Branches":[
              {"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:slow","End":true}}},
              {"StartAt":"F","States":{"F":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:fast","End":true}}},
              {"StartAt":"Mutate","States":{"Mutate":{"Type":"Pass","Result":"changed","ResultPath":"$.x","End":true}}}]}}}
            """, """{"x":5}""", functions);
        Asl.JsonEqual("""{"x":5,"branches":["slow:5","fast:5",{"x":"changed"}]}""", output);
    }

    [Fact]
    public async Task Parallel_BranchFailure_FailsStateAndIsCatchable()
    {
        var functions = new FunctionTable().Add("bad", _ => throw new TensorChecksumException("corrupt"));
        var output = await Asl.OutputAsync("""
            {"StartAt":"P","States":{
              "P":{"Type":"Parallel","Next":"Ok","Branches":[
                {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
                {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:bad","End":true}}}],
               "Catch":[{"ErrorEquals":["TensorChecksumException"],"Next":"Handled"}]},
              "Ok":{"Type":"Succeed"},
              "Handled":{"Type":"Pass","Parameters":{"caught.$":"$.Error"},"End":true}}}
            """, "{}", functions);
        Asl.JsonEqual("""{"caught":"TensorChecksumException"}""", output);
    }

    [Fact]
    public async Task Parallel_ParametersAndResultSelector_Apply()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Parallel","Parameters":{"v.$":"$.value"},
              "ResultSelector":{"first.$":"$[0].v","second.$":"$[1]"},"End":true,"Branches":[
              {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
              {"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}]}}}
            """, """{"value":1}""");
        Asl.JsonEqual("""{"first":1,"second":2}""", output);
    }

    [Fact]
    public async Task Parallel_RecordsStartedAndSucceededEvents()
    {
        var (result, execution, _) = await Asl.RunAsync("""
            {"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
              {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}]}}}
            """);
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(
            ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited",
             "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"],
            execution.History.Select(e => e.Type).ToArray());
    }
}
