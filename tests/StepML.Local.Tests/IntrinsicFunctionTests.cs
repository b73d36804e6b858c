using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace StepML.Local.Tests;

public sealed class IntrinsicFunctionTests
{
    private static async Task<JsonNode?> EvalAsync(string expression, string input = "{}")
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(expression);
        var output = await Asl.OutputAsync(Asl.PassWithParameters("""{"v.$":@@escaped@@}""".Replace("@@escaped@@", escaped)), input);
        return output!["v"];
    }

    [Theory]
    [InlineData("States.Format('Hello, my name is {}.', $.name)", """{"name":"Arnav"}""", "\"Hello, my name is Arnav.\"")]
    [InlineData("States.Format('{} + {} = {}', 1, $.two, true)", """{"two":2}""", "\"1 + 2 = true\"")]
    [InlineData("States.Format('literal \\{\\} and {}', 'x')", "{}", "\"literal {} and x\"")]
    [InlineData("States.StringToJson($.s)", """{"s":"{\"a\":[1,2]}"}""", """{"a":[1,2]}""")]
    [InlineData("States.JsonToString($.o)", """{"o":{"a":1}}""", "\"{\\\"a\\\":1}\"")]
    [InlineData("States.Array('Foo', 2020, $.x, null)", """{"x":{"k":true}}""", """["Foo",2020,{"k":true},null]""")]
    [InlineData("States.ArrayPartition($.a, 2)", """{"a":[1,2,3,4,5]}""", "[[1,2],[3,4],[5]]")]
    [InlineData("States.ArrayContains($.a, 3)", """{"a":[1,2,3]}""", "true")]
    [InlineData("States.ArrayContains($.a, 'x')", """{"a":[1,2,3]}""", "false")]
    [InlineData("States.ArrayRange(1, 9, 2)", "{}", "[1,3,5,7,9]")]
    [InlineData("States.ArrayRange(0, 3, 1)", "{}", "[0,1,2,3]")]
    [InlineData("States.ArrayRange(5, 1, -2)", "{}", "[5,3,1]")]
    [InlineData("States.ArrayGetItem($.a, 1)", """{"a":["x","y","z"]}""", "\"y\"")]
    [InlineData("States.ArrayLength($.a)", """{"a":[1,2,3,4]}""", "4")]
    [InlineData("States.ArrayUnique($.a)", """{"a":[1,2,2,"x","x",{"o":1},{"o":1}]}""", """[1,2,"x",{"o":1}]""")]
    [InlineData("States.Base64Encode('Data to encode')", "{}", "\"RGF0YSB0byBlbmNvZGU=\"")]
    [InlineData("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "{}", "\"Data to encode\"")]
    [InlineData("States.Hash('input data', 'SHA-1')", "{}", "\"aaff4a450a104cd177d28d18d74485e8cae074b7\"")]
    [InlineData("States.Hash('abc', 'MD5')", "{}", "\"900150983cd24fb0d6963f7d28e17f72\"")]
    [InlineData("States.Hash('abc', 'SHA-256')", "{}", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")]
    [InlineData("States.JsonMerge($.a, $.b, false)", """{"a":{"x":1,"n":{"p":1}},"b":{"y":2,"n":{"q":2}}}""", """{"x":1,"n":{"q":2},"y":2}""")]
    [InlineData("States.MathAdd($.v, -3)", """{"v":111}""", "108")]
    [InlineData("States.StringSplit('1,2,3,4,5', ',')", "{}", """["1","2","3","4","5"]""")]
    [InlineData("States.StringSplit('This.is+a,test=string', '.+,=')", "{}", """["This","is","a","test","string"]""")]
    [InlineData("States.ArrayLength(States.ArrayPartition(States.ArrayRange(1, 10, 1), 3))", "{}", "4")]
    [InlineData("States.Format('{}-{}', $$.Execution.Name, States.ArrayGetItem($.a, 0))", """{"a":[7]}""", "\"run-1-7\"")]
    public async Task Intrinsic_Evaluates_AsDocumented(string expression, string input, string expectedJson)
        => Asl.JsonEqual(expectedJson, await EvalAsync(expression, input));

    [Fact]
    public async Task MathRandom_WithSeed_IsInRangeAndReproducible()
    {
        var a = (int)(await EvalAsync("States.MathRandom(1, 999, 7)"))!;
        var b = (int)(await EvalAsync("States.MathRandom(1, 999, 7)"))!;
        Assert.InRange(a, 1, 998);
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task MathRandom_WithoutSeed_IsSeededFromTheExecution()
    {
        // Same execution ARN (machine "Test", name "run-1") in two engines: same draw.
        var a = (int)(await EvalAsync("States.MathRandom(0, 1000000)"))!;
        var b = (int)(await EvalAsync("States.MathRandom(0, 1000000)"))!;
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Uuid_IsVersion4()
    {
        var uuid = (string)(await EvalAsync("States.UUID()"))!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", uuid);
    }

    [Theory]
    [InlineData("States.ArrayGetItem($.a, 5)", """{"a":[1]}""")]
    [InlineData("States.StringToJson('not json')", "{}")]
    [InlineData("States.Hash('x', 'SHA-3')", "{}")]
    [InlineData("States.Format('{} {}', 'only one')", "{}")]
    [InlineData("States.MathAdd('1', 2)", "{}")]
    public async Task Intrinsic_BadArgumentsAtRuntime_FailWithIntrinsicFailure(string expression, string input)
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(expression);
        var (result, _, _) = await Asl.RunAsync(Asl.PassWithParameters("""{"v.$":@@escaped@@}""".Replace("@@escaped@@", escaped)), input);
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.IntrinsicFailure", result.Error);
    }

    [Theory]
    [InlineData("States.NoSuchFunction(1)", "States.NoSuchFunction")]
    [InlineData("States.ArrayLength($.a, 2)", "takes 1 argument")]
    [InlineData("States.JsonMerge($.a, $.b, true)", "shallow")]
    [InlineData("States.Format('x'", "missing ')'")]
    public void Intrinsic_Malformed_IsRejectedAtParseTime(string expression, string expectedMessagePart)
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(expression);
        var e = Assert.Throws<AslValidationException>(() => StateMachineDefinition.Parse(Asl.PassWithParameters("""{"v.$":@@escaped@@}""".Replace("@@escaped@@", escaped))));
        Assert.Contains("'P'", e.Message);
        Assert.Contains("Parameters.v.$", e.Message);
        Assert.Contains(expectedMessagePart, e.Message);
    }

    [Fact]
    public void ArrayPartition_ConcatenatedChunks_EqualTheInput()
    {
        Prop.ForAll(Gen.ListOf(ArbMap.Default.GeneratorFor<int>()).ToArbitrary(), Gen.Choose(1, 7).ToArbitrary(), (list, size) =>
        {
            var input = new JsonObject { ["a"] = new JsonArray(list.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()) };
            var output = EvalAsync($"States.ArrayPartition($.a, {size})", input.ToJsonString()).GetAwaiter().GetResult()!.AsArray();
            var flat = output.SelectMany(chunk => chunk!.AsArray().Select(n => (int)n!)).ToList();
            return flat.SequenceEqual(list) && output.All(c => c!.AsArray().Count <= size && c.AsArray().Count > 0);
        }).QuickCheckThrowOnFailure();
    }
}
