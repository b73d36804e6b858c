using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Core.Search;

namespace StepML.Core.Tests.Search;

public sealed class SearchPlannerTests
{
    private static JsonObject BaseJob() => JsonNode.Parse("""
        {"dataset": {"path": "datasets/d.libsvm", "validationFraction": 0.1}, "algorithm": {"type": "admm", "rho": 0.1}, "stop": {"maxRounds": 9}}
        """)!.AsObject();

    private static SearchSpec Spec(string json) => SearchSpecParser.Parse(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void Trials_Grid_IsTheCartesianProductFirstParameterSlowest()
    {
        var spec = Spec("""{"job": "j", "parameters": {"algorithm.learningRate": [0.1, 1], "algorithm.rho": [0.01, 0.1, 1]}}""");

        var trials = SearchPlanner.Trials(spec);

        Assert.Equal(6, trials.Count);
        Assert.Equal(["0.1/0.01", "0.1/0.1", "0.1/1", "1/0.01", "1/0.1", "1/1"],
            trials.Select(t => $"{t["algorithm.learningRate"]}/{t["algorithm.rho"]}"));
    }

    [Fact]
    public void Trials_Random_SeededInRangeAndLogUniformSpreadsOverDecades()
    {
        var spec = Spec("""
            {"job": "j", "strategy": "random", "budget": {"trials": 400}, "seed": 3,
             "parameters": {"algorithm.rho": {"logUniform": [0.001, 1]}, "algorithm.learningRate": {"uniform": [0.5, 1.5]}, "algorithm.optimizer": ["sgd", "adam"]}}
            """);

        var trials = SearchPlanner.Trials(spec);
        var again = SearchPlanner.Trials(spec);

        Assert.Equal(400, trials.Count);
        Assert.Equal(trials.Select(t => t.ToJsonString()), again.Select(t => t.ToJsonString()));
        var rho = trials.Select(t => (double)t["algorithm.rho"]!).ToArray();
        Assert.All(rho, r => Assert.InRange(r, 0.001, 1));
        // Log-uniform: about a third of the draws in each decade [1e-3, 1e-2), [1e-2, 1e-1), [1e-1, 1].
        foreach (var (lo, hi) in new[] { (0.001, 0.01), (0.01, 0.1), (0.1, 1.0) })
            Assert.InRange(rho.Count(r => r >= lo && r < hi), 90, 180);
        Assert.All(trials, t => Assert.InRange((double)t["algorithm.learningRate"]!, 0.5, 1.5));
        Assert.Equal(["adam", "sgd"], trials.Select(t => (string)t["algorithm.optimizer"]!).Distinct().Order());
        var other = SearchPlanner.Trials(spec with { Seed = 4 });
        Assert.NotEqual(trials.Select(t => t.ToJsonString()), other.Select(t => t.ToJsonString()));
    }

    [Theory]
    [InlineData(1, 3, 9, new[] { 1, 3, 9 })]
    [InlineData(1, 3, 10, new[] { 1, 3, 9, 10 })]
    [InlineData(2, 2, 16, new[] { 2, 4, 8, 16 })]
    [InlineData(4, 3, 5, new[] { 4, 5 })]
    public void Rungs_SuccessiveHalving_GeometricThenTheBudget(int minRounds, int reduction, int rounds, int[] expected)
    {
        var spec = new SearchSpec { Strategy = new SearchStrategy(SearchStrategies.SuccessiveHalving, minRounds, reduction) };

        Assert.Equal(expected, SearchPlanner.Rungs(spec, rounds));
        Assert.Equal([rounds], SearchPlanner.Rungs(spec with { Strategy = new SearchStrategy(SearchStrategies.Grid) }, rounds));
    }

    [Fact]
    public void Survivors_KeepBestThirdByLoss_FailedNeverAndTiesByTrial()
    {
        var results = new (int, double?)[] { (0, 0.5), (1, null), (2, 0.3), (3, 0.3), (4, double.NaN), (5, 0.9), (6, 0.1) };

        Assert.Equal([6, 2, 3], SearchPlanner.Survivors(results, 3));
        Assert.Equal([6, 2], SearchPlanner.Survivors(results, 4));
        Assert.Empty(SearchPlanner.Survivors([(0, null), (1, double.NaN)], 2));
    }

    [Fact]
    public void TrialJob_SetsParametersRunIdAndRounds_AsSetDoes()
    {
        var job = SearchPlanner.TrialJob(BaseJob(), new JsonObject { ["algorithm.rho"] = 0.5, ["workers.maxConcurrency"] = 2 }, "s-t03", 3);
        var spec = JobSpecParser.Parse(job.ToJsonString());

        Assert.Equal((0.5, 2, "s-t03", 3), (spec.Algorithm.Rho, spec.Workers.MaxConcurrency, spec.RunId, spec.Stop.MaxRounds));
        Assert.Equal(0.1, (double)BaseJob()["algorithm"]!["rho"]!);
    }

    [Fact]
    public void Validate_GoodSpec_ReturnsTheBudgetRoundsOrTheJobs()
    {
        Assert.Equal(9, SearchPlanner.Validate(Spec("""{"job": "j", "parameters": {"algorithm.rho": [0.1, 1]}}"""), BaseJob()));
        Assert.Equal(27, SearchPlanner.Validate(Spec("""{"job": "j", "parameters": {"algorithm.rho": [0.1]}, "budget": {"rounds": 27}}"""), BaseJob()));
    }

    [Theory]
    [InlineData("""{"job": "j", "parameters": {"algorithm.rho": [0.1, -1]}}""", "parameters.algorithm.rho", "value -1")]
    [InlineData("""{"job": "j", "parameters": {"algorithm.rhoo": [0.1]}}""", "parameters.algorithm.rhoo", "did you mean 'rho'")]
    [InlineData("""{"job": "j", "parameters": {"algorithm.learningRate": {"uniform": [-1, 1]}}, "strategy": "random", "budget": {"trials": 2}}""", "parameters.algorithm.learningRate", "value -1")]
    [InlineData("""{"job": "j", "parameters": {"algorithm.rho": [0.1]}, "strategy": {"type": "successive-halving", "minRounds": 9}}""", "strategy.minRounds", "below budget.rounds 9")]
    [InlineData("""{"job": "j", "parameters": {"algorithm.rho": [0.1]}, "budget": {"rounds": 100000}}""", "budget.rounds", "one training execution")]
    public void Validate_BadTrial_NamesParameterAndValue(string json, string field, string text)
    {
        var e = Assert.Throws<SearchSpecException>(() => SearchPlanner.Validate(Spec(json), BaseJob()));

        Assert.Equal(field, e.Field);
        Assert.Contains(text, e.Message);
    }

    [Fact]
    public void Validate_JobWithoutValidationSplitOrWithRunId_Rejected()
    {
        var spec = Spec("""{"job": "j", "parameters": {"algorithm.rho": [0.1]}}""");
        var noValidation = BaseJob();
        noValidation["dataset"]!["validationFraction"] = 0;
        var withRunId = BaseJob();
        withRunId["runId"] = "mine";

        Assert.Equal("job.dataset.validationFraction", Assert.Throws<SearchSpecException>(() => SearchPlanner.Validate(spec, noValidation)).Field);
        Assert.Equal("job.runId", Assert.Throws<SearchSpecException>(() => SearchPlanner.Validate(spec, withRunId)).Field);
    }
}
