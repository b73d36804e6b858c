using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using StepML.Local.Internal;

namespace StepML.Local.Tests;

public sealed class JsonPathTests
{
    private static readonly Gen<string> s_fieldName =
        Gen.Choose(1, 6).SelectMany(n => Gen.ArrayOf(Gen.Elements("abcdefgxyz_0123456789-".ToCharArray()), n)).Select(c => new string(c));

    [Fact]
    public void SetIn_ThenTryEvaluate_ReturnsTheValueAndKeepsSiblings()
    {
        var gen = from names in Gen.Choose(1, 4).SelectMany(d => Gen.ArrayOf(s_fieldName, d))
                  from value in Gen.Choose(-1000, 1000)
                  select (names, value);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var path = JsonPath.Parse("$" + string.Concat(t.names.Select(n => "['" + n + "']")));
            var root = new JsonObject { ["sibling"] = "kept" };
            var updated = path.SetIn(root, JsonValue.Create(t.value));
            return path.TryEvaluate(updated, out var found)
                   && (int)found! == t.value
                   && (t.names[0] == "sibling" || (string?)updated!["sibling"] == "kept");
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("$.a.b[1].c", """{"a":{"b":[{"c":1},{"c":2}]}}""", "2")]
    [InlineData("$['a b']", """{"a b":3}""", "3")]
    [InlineData("$.a[*]", """{"a":[1,2]}""", "[1,2]")]
    [InlineData("$.*.v", """{"x":{"v":1},"y":{"v":2}}""", "[1,2]")]
    [InlineData("$", """{"k":null}""", """{"k":null}""")]
    public void TryEvaluate_SupportedSyntax_FindsValue(string path, string json, string expected)
    {
        Assert.True(JsonPath.Parse(path).TryEvaluate(JsonNode.Parse(json), out var found));
        Asl.JsonEqual(expected, found);
    }

    [Theory]
    [InlineData("$.a[5]", """{"a":[1]}""")]
    [InlineData("$.a.b", """{"a":1}""")]
    [InlineData("$.missing", """{}""")]
    public void TryEvaluate_NoMatch_ReturnsFalse(string path, string json)
        => Assert.False(JsonPath.Parse(path).TryEvaluate(JsonNode.Parse(json), out _));

    [Theory]
    [InlineData("a.b")]
    [InlineData("$[?(@.x)]")]
    [InlineData("$[1:3]")]
    [InlineData("$..x")]
    [InlineData("$.a[")]
    public void Parse_UnsupportedOrMalformed_Throws(string path)
        => Assert.Throws<FormatException>(() => JsonPath.Parse(path));

    [Fact]
    public void StringMatches_PatternMadeByStarringPartsOfAString_MatchesIt()
    {
        var gen = from text in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Elements("ab*\\.x".ToCharArray()), n)).Select(c => new string(c))
                  from cuts in Gen.ArrayOf(Gen.Choose(0, 12), 2)
                  select (text, cuts);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            int from = Math.Min(Math.Min(t.cuts[0], t.cuts[1]), t.text.Length), to = Math.Min(Math.Max(t.cuts[0], t.cuts[1]), t.text.Length);
            static string Escape(string s) => s.Replace("\\", "\\\\").Replace("*", "\\*");
            var pattern = Escape(t.text[..from]) + "*" + Escape(t.text[to..]);
            var rule = new JsonObject { ["Variable"] = "$.s", ["StringMatches"] = pattern, ["Next"] = "X" };
            var condition = ChoiceCondition.Compile(rule, "Choices[0]", topLevel: true);
            var scope = new StateScope
            {
                Execution = new ExecutionInfo("arn", "n", "t", null, "m", "m"), StateName = "C", Entered = DateTimeOffset.UnixEpoch,
            };
            bool matchesSelf = condition.Evaluate(new JsonObject { ["s"] = t.text }, scope);
            bool exact = ChoiceCondition.Compile(new JsonObject { ["Variable"] = "$.s", ["StringMatches"] = Escape(t.text), ["Next"] = "X" }, "c", true)
                .Evaluate(new JsonObject { ["s"] = t.text + "!" }, scope);
            return matchesSelf && !exact;
        }).QuickCheckThrowOnFailure();
    }
}
