using System.Text.Json;
using System.Text.RegularExpressions;
using StepML.Infra;

namespace StepML.Infra.Tests;

// The second state machine (statemachines/search.asl.json): its definition and substitutions, its Search function, and
// its role's permission to run trials as nested executions of the training machine (startExecution.sync:2).
public sealed partial class SearchTemplateTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private string TrainingId => stack.Resources("AWS::StepFunctions::StateMachine").Single(r => r.LogicalId.StartsWith("Training", StringComparison.Ordinal)).LogicalId;
    private string SearchId => stack.Resources("AWS::StepFunctions::StateMachine").Single(r => r.LogicalId.StartsWith("Search", StringComparison.Ordinal)).LogicalId;
    private JsonElement SearchProperties => stack.Resource(SearchId).GetProperty("Properties");
    private string SearchRoleId => Policy.Render(SearchProperties.GetProperty("RoleArn"))["arn(".Length..^1];

    [Fact]
    public void SearchMachine_IsStandardTracedLoggedAndOutput()
    {
        Assert.Equal(2, stack.Resources("AWS::StepFunctions::StateMachine").Count());
        Assert.Equal("STANDARD", SearchProperties.GetProperty("StateMachineType").GetString());
        Assert.True(SearchProperties.GetProperty("TracingConfiguration").GetProperty("Enabled").GetBoolean());
        Assert.Equal("ALL", SearchProperties.GetProperty("LoggingConfiguration").GetProperty("Level").GetString());
        stack.Template.HasOutput("SearchStateMachineArn", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = SearchId } });
    }

    [Fact]
    public void SearchMachine_Substitutions_AreTheSearchFunctionAndTheTrainingMachine()
    {
        var definition = File.ReadAllText(Path.Combine(stack.RepositoryRoot, RepositoryLayout.SearchStateMachineDefinition));
        var substitutions = SearchProperties.GetProperty("DefinitionSubstitutions").EnumerateObject().ToDictionary(p => p.Name, p => Policy.Render(p.Value));

        Assert.Equal(Placeholder().Matches(definition).Select(m => m.Groups[1].Value).ToHashSet().Order(StringComparer.Ordinal), substitutions.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"arn({stack.FunctionId("Search")})", substitutions["SearchFunctionArn"]);
        Assert.Equal($"ref({TrainingId})", substitutions["TrainStateMachineArn"]);
        Assert.Contains("\"arn:aws:states:::states:startExecution.sync:2\"", definition, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchFunction_HasItsCatalogSizeAndOnlyItsPrefixes()
    {
        var search = FunctionCatalog.Search;
        stack.Template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Handler"] = "StepML.Functions::StepML.Functions.SearchFunction::HandleAsync",
            ["Runtime"] = "dotnet10",
            ["MemorySize"] = search.DefaultMemoryMb,
            ["Timeout"] = search.DefaultTimeoutSeconds,
        });
        var roleId = Policy.Render(stack.Resource(stack.FunctionId("Search")).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1];
        var statements = stack.StatementsOfRole(roleId);
        var puts = statements.Where(s => Policy.Actions(s).Contains("s3:PutObject")).SelectMany(Policy.Resources).ToList();
        Assert.NotEmpty(puts);
        Assert.All(puts, r => Assert.EndsWith("/searches/*", r, StringComparison.Ordinal));
        Assert.DoesNotContain(statements, s => Policy.Actions(s).Any(a => a.StartsWith("dynamodb:", StringComparison.Ordinal)));
    }

    [Fact]
    public void SearchRole_StartsDescribesAndStopsOnlyTrainingExecutions()
    {
        var statements = stack.StatementsOfRole(SearchRoleId);

        var start = Assert.Single(statements, s => Policy.Actions(s).Contains("states:StartExecution"));
        Assert.Equal(["states:StartExecution"], Policy.Actions(start));
        Assert.Equal([$"ref({TrainingId})"], Policy.Resources(start));
        var manage = Assert.Single(statements, s => Policy.Actions(s).Contains("states:DescribeExecution"));
        Assert.Equal(["states:DescribeExecution", "states:StopExecution"], Policy.Actions(manage).Order(StringComparer.Ordinal));
        var execution = Assert.Single(Policy.Resources(manage));
        Assert.Contains($":execution:name({TrainingId}):*", execution, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchRole_ManagesOnlyTheSyncEventsRule()
    {
        var events = Assert.Single(stack.StatementsOfRole(SearchRoleId), s => Policy.Actions(s).Any(a => a.StartsWith("events:", StringComparison.Ordinal)));

        Assert.Equal(["events:DescribeRule", "events:PutRule", "events:PutTargets"], Policy.Actions(events).Order(StringComparer.Ordinal));
        var rule = Assert.Single(Policy.Resources(events));
        Assert.EndsWith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule", rule, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchRole_InvokesOnlyTheSearchFunction()
    {
        var invoke = Assert.Single(stack.StatementsOfRole(SearchRoleId), s => Policy.Actions(s).Contains("lambda:InvokeFunction"));
        var id = stack.FunctionId("Search");

        Assert.Equal([$"arn({id})", $"arn({id}):*"], Policy.Resources(invoke).Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial Regex Placeholder();
}
