using System.Text.Json.Nodes;
using StepML.Core.Search;

namespace StepML.Core.Tests.Search;

public sealed class SearchSpecParserTests
{
    private const string Job = """{"dataset": {"path": "datasets/d.libsvm"}, "algorithm": {"type": "admm"}, "stop": {"maxRounds": 9}}""";

    private static string Spec(string rest) => $$"""{"name": "s", "job": {{Job}}, {{rest}}}""";

    [Fact]
    public void Parse_FullSpec_ReadsEveryField()
    {
        var spec = SearchSpecParser.Parse(Spec("""
            "parameters": {"algorithm.learningRate": [0.1, 1], "algorithm.rho": {"logUniform": [0.001, 1]}, "algorithm.localEpochs": {"uniform": [1, 4]}},
            "strategy": {"type": "successive-halving", "minRounds": 2, "reduction": 4},
            "budget": {"trials": 16, "rounds": 32, "dollars": 0.5}, "maxConcurrency": 8, "seed": 7
            """));

        Assert.Equal("s", spec.Name);
        Assert.NotNull(spec.Job);
        Assert.Equal(["algorithm.learningRate", "algorithm.rho", "algorithm.localEpochs"], spec.Parameters.Select(p => p.Field));
        Assert.Equal([ParameterKind.Values, ParameterKind.LogUniform, ParameterKind.Uniform], spec.Parameters.Select(p => p.Kind));
        Assert.Equal((0.001, 1.0), (spec.Parameters[1].Min, spec.Parameters[1].Max));
        Assert.Equal(new SearchStrategy(SearchStrategies.SuccessiveHalving, 2, 4), spec.Strategy);
        Assert.Equal(new SearchBudget(16, 32, 0.5), spec.Budget);
        Assert.Equal((8, 7UL), (spec.MaxConcurrency, spec.Seed));
    }

    [Fact]
    public void Parse_JobAsString_IsAStoreKey()
    {
        var spec = SearchSpecParser.Parse("""{"job": "jobs/demo.json", "parameters": {"algorithm.rho": [0.1]}}""");

        Assert.Null(spec.Job);
        Assert.Equal("jobs/demo.json", spec.JobKey);
        Assert.Equal(SearchStrategies.Grid, spec.Strategy.Type);
    }

    [Theory]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"strategie\": \"grid\"", "strategie", "did you mean 'strategy'")]
    [InlineData("\"parameters\": {}", "parameters", "at least one job field")]
    [InlineData("\"parameters\": {\"algorithm..rho\": [0.1]}", "parameters.algorithm..rho", "not a job field path")]
    [InlineData("\"parameters\": {\"algorithm.rho\": {\"logUniform\": [0, 1]}}, \"strategy\": \"random\", \"budget\": {\"trials\": 3}", "parameters.algorithm.rho.logUniform", "min > 0")]
    [InlineData("\"parameters\": {\"algorithm.rho\": {\"uniform\": [1, 0.5]}}, \"strategy\": \"random\", \"budget\": {\"trials\": 3}", "parameters.algorithm.rho.uniform", "min < max")]
    [InlineData("\"parameters\": {\"algorithm.rho\": {\"uniform\": [0.1, 1]}}", "parameters.algorithm.rho", "a grid needs a list of values")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"strategy\": \"random\"", "budget.trials", "random search needs the number of trials")]
    [InlineData("\"parameters\": {\"algorithm.rho\": {\"uniform\": [0.1, 1]}}, \"strategy\": \"successive-halving\"", "budget.trials", "successive halving needs the number of trials")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1, 0.2, 0.3]}, \"budget\": {\"trials\": 2}", "budget.trials", "the grid has 3 points")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"strategy\": \"hyperband\"", "strategy", "not a strategy")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"strategy\": {\"type\": \"successive-halving\", \"reduction\": 1}", "strategy.reduction", "from 2 to 100")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"budget\": {\"dollars\": -1}", "budget.dollars", "≥ 0")]
    [InlineData("\"parameters\": {\"algorithm.rho\": [0.1]}, \"maxConcurrency\": 2.5", "maxConcurrency", "whole number")]
    public void Parse_BadField_NamesFieldAndFix(string rest, string field, string fix)
    {
        var e = Assert.Throws<SearchSpecException>(() => SearchSpecParser.Parse(Spec(rest)));

        Assert.Equal(field, e.Field);
        Assert.Contains(fix, e.Message);
    }

    [Theory]
    [InlineData("""{"parameters": {"algorithm.rho": [0.1]}}""", "job")]
    [InlineData("""{"name": "a name with spaces", "job": "jobs/x.json", "parameters": {"algorithm.rho": [0.1]}}""", "name")]
    [InlineData("""[1, 2]""", "$")]
    [InlineData("""{"job": """, "$")]
    public void Parse_BadDocument_NamesField(string json, string field)
    {
        Assert.Equal(field, Assert.Throws<SearchSpecException>(() => SearchSpecParser.Parse(json)).Field);
    }

    [Fact]
    public void Parse_NameOf32Characters_Accepted_33Rejected()
    {
        var ok = SearchSpecParser.Parse(new JsonObject { ["name"] = new string('a', 32), ["job"] = "jobs/x.json", ["parameters"] = new JsonObject { ["algorithm.rho"] = new JsonArray(0.1) } });
        Assert.Equal(32, ok.Name.Length);
        Assert.Throws<SearchSpecException>(() => SearchSpecParser.Parse(new JsonObject { ["name"] = new string('a', 33), ["job"] = "jobs/x.json", ["parameters"] = new JsonObject { ["algorithm.rho"] = new JsonArray(0.1) } }));
    }

    [Fact]
    public void Parse_NumbersBuiltInCode_ReadLikeParsedOnes()
    {
        var spec = SearchSpecParser.Parse(new JsonObject
        {
            ["job"] = "jobs/x.json", ["maxConcurrency"] = 0, ["seed"] = 7L,
            ["parameters"] = new JsonObject { ["algorithm.rho"] = new JsonObject { ["uniform"] = new JsonArray(1, 2.5m) } },
            ["strategy"] = "random", ["budget"] = new JsonObject { ["trials"] = 3, ["dollars"] = 1 },
        });

        Assert.Equal((0, 7UL, 1.0, 2.5, 3, 1.0), (spec.MaxConcurrency, spec.Seed, spec.Parameters[0].Min, spec.Parameters[0].Max, spec.Budget.Trials, spec.Budget.Dollars));
    }
}
