using System.Text.Json;
using StepML.Infra;

namespace StepML.Infra.Tests;

// The run ledger's table and who may touch it.
public sealed class LedgerTableTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private string TableId => stack.Resources("AWS::DynamoDB::Table").Single(r => r.LogicalId.StartsWith("Ledger", StringComparison.Ordinal)).LogicalId;

    private IReadOnlyList<JsonElement> StatementsOf(string function) =>
        stack.StatementsOfRole(Policy.Render(stack.Resource(stack.FunctionId(function)).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1]);

    private IReadOnlyList<string> LedgerActions(string function) =>
        StatementsOf(function).Where(s => Policy.Resources(s).Any(r => r.Contains(TableId, StringComparison.Ordinal)))
            .SelectMany(Policy.Actions).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Table_OnDemandKeyedByPkRetainedNoHardCodedName()
    {
        stack.Template.HasResource("AWS::DynamoDB::Table", new Dictionary<string, object>
        {
            ["DeletionPolicy"] = "Retain",
            ["UpdateReplacePolicy"] = "Retain",
            ["Properties"] = new Dictionary<string, object>
            {
                ["BillingMode"] = "PAY_PER_REQUEST",
                ["KeySchema"] = new[] { new Dictionary<string, object> { ["AttributeName"] = "pk", ["KeyType"] = "HASH" } },
                ["AttributeDefinitions"] = new[] { new Dictionary<string, object> { ["AttributeName"] = "pk", ["AttributeType"] = "S" } },
            },
        });
        Assert.False(stack.Resource(TableId).GetProperty("Properties").TryGetProperty("TableName", out _));
    }

    [Theory]
    [InlineData("Prepare", new[] { "dynamodb:GetItem", "dynamodb:PutItem" })]
    [InlineData("Finalize", new[] { "dynamodb:GetItem", "dynamodb:PutItem" })]
    [InlineData("RecordFailure", new[] { "dynamodb:GetItem", "dynamodb:PutItem" })]
    [InlineData("Decide", new[] { "dynamodb:GetItem" })]
    [InlineData("Worker", new string[0])]
    [InlineData("Merge", new string[0])]
    public void FunctionRoles_LedgerActions_ExactlyWhatEachStepNeeds(string function, string[] expected)
    {
        Assert.Equal(expected, LedgerActions(function));
        // A statement on the ledger names the ledger alone (the channel table has statements of its own).
        Assert.All(StatementsOf(function).Where(st => Policy.Resources(st).Any(r => r.Contains(TableId, StringComparison.Ordinal))),
            st => Assert.All(Policy.Resources(st).Where(r => r != "ref(AWS::NoValue)"), r => Assert.Contains(TableId, r, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Prepare", true)]
    [InlineData("Decide", true)]
    [InlineData("Finalize", true)]
    [InlineData("RecordFailure", true)]
    [InlineData("Worker", false)]
    [InlineData("Merge", false)]
    public void Functions_LedgerVariable_OnlyWhereTheLedgerIsUsed(string function, bool expected)
    {
        var variables = stack.Resource(stack.FunctionId(function)).GetProperty("Properties").GetProperty("Environment").GetProperty("Variables");
        Assert.Equal(expected, variables.TryGetProperty(RunLedgerTable.LedgerVariable, out var value));
        if (expected) Assert.Equal($"dynamodb://ref({TableId})", Policy.Render(value));
    }

    [Fact]
    public void Outputs_LedgerTableName_IsExported()
    {
        Assert.Equal($"ref({TableId})", Policy.Render(stack.Json.GetProperty("Outputs").GetProperty("LedgerTableName").GetProperty("Value")));
    }
}
