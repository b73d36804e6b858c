using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

public sealed class ChoiceTests
{
    private static async Task<string> ChooseAsync(string ruleJson, string inputJson)
    {
        var asl = """
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[ @@ruleJson@@ ],"Default":"No"},
              "Yes":{"Type":"Pass","Result":"yes","End":true},
              "No":{"Type":"Pass","Result":"no","End":true}}}
            """.Replace("@@ruleJson@@", ruleJson);
        var output = await Asl.OutputAsync(asl, inputJson);
        return (string)output!;
    }

    [Theory]
    [InlineData("""{"Variable":"$.s","StringEquals":"abc","Next":"Yes"}""", """{"s":"abc"}""", "yes")]
    [InlineData("""{"Variable":"$.s","StringEquals":"abc","Next":"Yes"}""", """{"s":"abd"}""", "no")]
    [InlineData("""{"Variable":"$.s","StringLessThan":"b","Next":"Yes"}""", """{"s":"abc"}""", "yes")]
    [InlineData("""{"Variable":"$.s","StringGreaterThanEquals":"abc","Next":"Yes"}""", """{"s":"abc"}""", "yes")]
    [InlineData("""{"Variable":"$.s","StringLessThanEquals":"abb","Next":"Yes"}""", """{"s":"abc"}""", "no")]
    [InlineData("""{"Variable":"$.s","StringEqualsPath":"$.t","Next":"Yes"}""", """{"s":"x","t":"x"}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericEquals":3,"Next":"Yes"}""", """{"n":3.0}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericLessThan":3,"Next":"Yes"}""", """{"n":2.5}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericGreaterThan":3,"Next":"Yes"}""", """{"n":3}""", "no")]
    [InlineData("""{"Variable":"$.n","NumericGreaterThanEquals":3,"Next":"Yes"}""", """{"n":3}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericLessThanEquals":-1,"Next":"Yes"}""", """{"n":-1}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericLessThanPath":"$.limit","Next":"Yes"}""", """{"n":1,"limit":2}""", "yes")]
    [InlineData("""{"Variable":"$.n","NumericGreaterThanPath":"$.limit","Next":"Yes"}""", """{"n":1,"limit":2}""", "no")]
    [InlineData("""{"Variable":"$.n","NumericEquals":3,"Next":"Yes"}""", """{"n":"3"}""", "no")]
    [InlineData("""{"Variable":"$.b","BooleanEquals":true,"Next":"Yes"}""", """{"b":true}""", "yes")]
    [InlineData("""{"Variable":"$.b","BooleanEqualsPath":"$.c","Next":"Yes"}""", """{"b":false,"c":true}""", "no")]
    [InlineData("""{"Variable":"$.t","TimestampEquals":"2024-01-01T00:00:00Z","Next":"Yes"}""", """{"t":"2024-01-01T01:00:00+01:00"}""", "yes")]
    [InlineData("""{"Variable":"$.t","TimestampLessThan":"2024-01-01T00:00:00Z","Next":"Yes"}""", """{"t":"2023-12-31T23:59:59Z"}""", "yes")]
    [InlineData("""{"Variable":"$.t","TimestampGreaterThan":"2024-01-01T00:00:00Z","Next":"Yes"}""", """{"t":"2023-12-31T23:59:59Z"}""", "no")]
    [InlineData("""{"Variable":"$.t","TimestampGreaterThanEqualsPath":"$.u","Next":"Yes"}""", """{"t":"2024-01-02T00:00:00Z","u":"2024-01-01T00:00:00Z"}""", "yes")]
    [InlineData("""{"Variable":"$.t","TimestampLessThanEquals":"2024-01-01T00:00:00Z","Next":"Yes"}""", """{"t":"not a time"}""", "no")]
    [InlineData("""{"Variable":"$.x","IsNull":true,"Next":"Yes"}""", """{"x":null}""", "yes")]
    [InlineData("""{"Variable":"$.x","IsPresent":true,"Next":"Yes"}""", """{"y":1}""", "no")]
    [InlineData("""{"Variable":"$.x","IsPresent":false,"Next":"Yes"}""", """{"y":1}""", "yes")]
    [InlineData("""{"Variable":"$.x","IsNumeric":true,"Next":"Yes"}""", """{"x":1.5}""", "yes")]
    [InlineData("""{"Variable":"$.x","IsString":true,"Next":"Yes"}""", """{"x":1}""", "no")]
    [InlineData("""{"Variable":"$.x","IsBoolean":true,"Next":"Yes"}""", """{"x":false}""", "yes")]
    [InlineData("""{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}""", """{"x":"2016-03-14T01:59:00Z"}""", "yes")]
    [InlineData("""{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}""", """{"x":"2016-03-14"}""", "no")]
    [InlineData("""{"Variable":"$.f","StringMatches":"log-*.txt","Next":"Yes"}""", """{"f":"log-2024-01.txt"}""", "yes")]
    [InlineData("""{"Variable":"$.f","StringMatches":"log-*.txt","Next":"Yes"}""", """{"f":"log-2024-01.csv"}""", "no")]
    [InlineData("""{"Variable":"$.f","StringMatches":"*a*b*","Next":"Yes"}""", """{"f":"xxaxxbxx"}""", "yes")]
    [InlineData("""{"Variable":"$.f","StringMatches":"*a*b*","Next":"Yes"}""", """{"f":"xxbxxaxx"}""", "no")]
    [InlineData("""{"Variable":"$.f","StringMatches":"a\\*b","Next":"Yes"}""", """{"f":"a*b"}""", "yes")]
    [InlineData("""{"Variable":"$.f","StringMatches":"a\\*b","Next":"Yes"}""", """{"f":"axxb"}""", "no")]
    [InlineData("""{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.n","NumericLessThan":5}],"Next":"Yes"}""", """{"n":3}""", "yes")]
    [InlineData("""{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.n","NumericLessThan":5}],"Next":"Yes"}""", """{"n":7}""", "no")]
    [InlineData("""{"Or":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.n","NumericEquals":7}],"Next":"Yes"}""", """{"n":7}""", "yes")]
    [InlineData("""{"Not":{"Variable":"$.s","StringEquals":"stop"},"Next":"Yes"}""", """{"s":"go"}""", "yes")]
    [InlineData("""{"Variable":"$$.Execution.Name","StringEquals":"run-1","Next":"Yes"}""", """{}""", "yes")]
    public async Task Choice_Operator_SelectsExpectedBranch(string rule, string input, string expected)
        => Assert.Equal(expected, await ChooseAsync(rule, input));

    [Fact]
    public async Task Choice_FirstMatchingRuleWins()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[
                {"Variable":"$.n","NumericGreaterThan":0,"Next":"A"},
                {"Variable":"$.n","NumericGreaterThan":1,"Next":"B"}]},
              "A":{"Type":"Pass","Result":"A","End":true},
              "B":{"Type":"Pass","Result":"B","End":true}}}
            """, """{"n":5}""");
        Assert.Equal("A", (string)output!);
    }

    [Fact]
    public async Task Choice_NoMatchAndNoDefault_FailsWithNoChoiceMatched()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"A"}]},
              "A":{"Type":"Succeed"}}}
            """, """{"n":2}""");
        Assert.Equal("FAILED", result.Status);
        Assert.Equal("States.NoChoiceMatched", result.Error);
    }

    [Fact]
    public async Task Choice_MissingVariable_FailsWithStatesRuntime()
    {
        var (result, _, _) = await Asl.RunAsync("""
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[{"Variable":"$.absent","NumericEquals":1,"Next":"A"}],"Default":"A"},
              "A":{"Type":"Succeed"}}}
            """);
        Assert.Equal("States.Runtime", result.Error);
        Assert.Contains("$.absent", result.Cause);
    }

    [Fact]
    public async Task Choice_OutputPathAppliesToChoiceOutput()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","InputPath":"$.inner","OutputPath":"$.v","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"A"}]},
              "A":{"Type":"Pass","End":true}}}
            """, """{"inner":{"v":1}}""");
        Assert.Equal(1, (int)output!);
    }

    [Fact]
    public async Task Choice_OnNumbersBuiltByIntrinsicsAndContext_ComparesNumerically()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"Count","States":{
              "Count":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd(States.ArrayLength($.xs), 1)","retry.$":"$$.State.RetryCount"},"Next":"C"},
              "C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.n","NumericEquals":4},{"Variable":"$.retry","NumericLessThan":1}],"Next":"Yes"}],"Default":"No"},
              "Yes":{"Type":"Pass","Result":"yes","End":true},
              "No":{"Type":"Pass","Result":"no","End":true}}}
            """, """{"xs":[1,2,3]}""");
        Assert.Equal("yes", (string)output!);
    }

    [Fact]
    public async Task Choice_OnMapItemIndex_ComparesNumerically()
    {
        var output = await Asl.OutputAsync("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"i.$":"$$.Map.Item.Index"},
              "ItemProcessor":{"StartAt":"C","States":{
                "C":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericGreaterThanEquals":1,"Next":"Big"}],"Default":"Small"},
                "Big":{"Type":"Pass","Result":"big","End":true},
                "Small":{"Type":"Pass","Result":"small","End":true}}},"End":true}}}
            """, """["a","b","c"]""");
        Asl.JsonEqual("""["small","big","big"]""", output);
    }
}
