using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Search;
using StepML.Functions.Search;
using StepML.Storage;

namespace StepML.Functions.Tests.Search;

// The Search function's steps driven the way search.asl.json drives them, without training (outcomes as the Map
// would report them): the state stays under the 256 KiB payload quota however many trials a rung has.
public sealed class SearchStepTests
{
    private static JsonObject Spec(int values) => new()
    {
        ["name"] = "big",
        ["job"] = JsonNode.Parse("""{"dataset": {"path": "datasets/small.libsvm"}, "algorithm": {"type": "admm"}, "stop": {"maxRounds": 3}}""")!.AsObject(),
        ["parameters"] = new JsonObject
        {
            ["algorithm.rho"] = new JsonArray(Enumerable.Range(1, values).Select(i => (JsonNode)JsonValue.Create(0.001 * i)).ToArray()),
            ["algorithm.learningRate"] = new JsonArray(Enumerable.Range(1, values).Select(i => (JsonNode)JsonValue.Create(0.01 * i)).ToArray()),
        },
        ["strategy"] = "successive-halving",
        ["maxConcurrency"] = 0,
    };

    private static int Bytes(SearchState state) => JsonSerializer.SerializeToUtf8Bytes(state, SearchJson.Default.SearchState).Length;

    [Fact]
    public async Task Rank_RungOf900Trials_GoesInBatchesThatFitTheStateQuota()
    {
        using var run = new TestRun();
        var state = await SearchStep.PlanAsync(run.Context, new JsonObject { ["spec"] = Spec(30) });
        var limit = SearchStep.BatchLimit(Spec(30)["job"]!.AsObject());

        Assert.Equal([0], state.Batch.Select(b => b.Trial));
        Assert.InRange(limit, 2, 899);
        var launched = new List<int> { 0 };
        while (!state.Done)
        {
            // Every trial fails (nothing trains here): the rung ends when all 900 have reported.
            state = await SearchStep.RankAsync(run.Context, state with { Outcomes = state.Batch.Select(b => new TrialOutcome(b.Trial, Error: "States.TaskFailed", Cause: "{}")).ToArray() });
            Assert.True(Bytes(state) < 200_000, $"state of {Bytes(state)} bytes");
            Assert.InRange(state.Batch.Length, 0, limit);
            launched.AddRange(state.Batch.Select(b => b.Trial));
        }

        Assert.Equal(Enumerable.Range(0, 900), launched);
        Assert.StartsWith("no trial of rung 0 finished", state.Reason);
        var table = JsonSerializer.Deserialize(await run.Store.GetAsync(SearchLayout.Trials(state.SearchId)), SearchJson.Default.TrialTable)!;
        Assert.All(table.Trials, t => Assert.Equal("failed", t.Status));
    }

    [Fact]
    public async Task Plan_JobKeyMissingFromStore_NamesTheJobField()
    {
        using var run = new TestRun();
        var spec = Spec(2);
        spec["job"] = "jobs/none.json";

        var e = await Assert.ThrowsAsync<SearchSpecException>(() => SearchStep.PlanAsync(run.Context, new JsonObject { ["spec"] = spec }));

        Assert.Equal("job", e.Field);
        Assert.Empty(await run.Store.ListAsync(SearchLayout.Prefix));
    }
}
