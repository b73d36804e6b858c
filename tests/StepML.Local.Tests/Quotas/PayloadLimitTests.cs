using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class PayloadLimitTests
{
    [Fact]
    public async Task FunctionResultAbove256KiB_FailsWithDataLimitExceededThatStatesAllCannotCatch()
    {
        var functions = new FunctionTable().Add("big", _ => JsonValue.Create(new string('x', 300_000)));
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:big",
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}
            """, "{}", functions);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.DataLimitExceeded", result.Error);
    }

    [Fact]
    public async Task StateOutputAbove256KiB_FailsWithDataLimitExceeded()
    {
        var functions = new FunctionTable().Add("chunk", _ => JsonValue.Create(new string('y', 100_000)));
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:chunk","End":true}}},"End":true}}}
            """, "[1,2,3]", functions);
        Assert.Equal("States.DataLimitExceeded", result.Error);
        Assert.Contains("'M'", result.Cause);
    }

    [Fact]
    public async Task WrappedHandlerException_ReportsTheInnerExceptionName()
    {
        var functions = new FunctionTable().Add("wrapped", _ => throw new System.Reflection.TargetInvocationException(new TensorChecksumException("inner")));
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:wrapped","End":true}}}
            """, "{}", functions);
        Assert.Equal("TensorChecksumException", result.Error);
    }

    [Fact]
    public async Task TaskInputAfterParametersAbove256KiB_FailsWithDataLimitExceededBeforeTheCall()
    {
        var functions = new FunctionTable().Add("f", _ => JsonValue.Create(1));
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:f",
              "Parameters":{"a.$":"$.text","b.$":"$.text","c.$":"$.text"},"End":true}}}
            """, $$"""{"text":"{{new string('z', 100_000)}}"}""", functions);

        Assert.Equal("States.DataLimitExceeded", result.Error);
        Assert.Contains("after Parameters", result.Cause);
        Assert.Equal(0, functions.Calls);
    }

    [Fact]
    public async Task MapItemInputAbove256KiB_FailsWithDataLimitExceeded()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
              "ItemSelector":{"item.$":"$$.Map.Item.Value","all.$":"$.items"},
              "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}
            """, $$"""{"items":["{{new string('q', 90_000)}}","{{new string('r', 90_000)}}"]}""");

        Assert.Equal("States.DataLimitExceeded", result.Error);
        Assert.Contains("item 0", result.Cause);
    }

    [Fact]
    public void StartExecution_InputAbove256KiB_IsRefused()
    {
        var engine = new LocalEngine(new FunctionTable());
        engine.Register(StateMachineDefinition.Parse("""{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""", name: "Test"));

        var e = Assert.Throws<ArgumentException>(() => engine.StartExecution("Test", $$"""{"x":"{{new string('x', 262_144)}}"}"""));

        Assert.Contains("256 KiB", e.Message);
    }
}
