using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>Decide deletes round r − 2's statistics and state once round r commits (SpentRounds), through the real
/// state machine: the store keeps every model and record but only two rounds of scratch, and a resume that falls back
/// past a damaged latest record still finds the state it reads. GA-SGD with momentum has optimizer state, ADMM worker
/// state.</summary>
public sealed class SpentRoundsTests(PipelineFixture data) : IClassFixture<PipelineFixture>
{
    private static long RoundOf(string key, string prefix) =>
        long.Parse(key[prefix.Length..].Split('/')[0].Replace(".tensor", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("ga-sgd", "all-reduce")]
    [InlineData("ga-sgd", "tree")]
    [InlineData("admm", "all-reduce")]
    public async Task Run_SixRounds_KeepsTheLastTwoRoundsOfScratchAndEveryModel(string algorithm, string pattern)
    {
        var store = data.NewStore();
        var job = PipelineFixture.Job(algorithm, maxRounds: 6);
        job["communication"]!["pattern"] = pattern;
        if (pattern == "tree") job["communication"]!["fanIn"] = 2; // 4 partitions: 2 partials at level 0, then the root

        var result = await PipelineFixture.RunAsync(store, job);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var rounds = RunLayout.Rounds("test-run");
        var scratch = (await store.ListAsync(rounds)).Select(o => RoundOf(o.Key, rounds)).Distinct().Order();
        Assert.Equal([4L, 5], scratch);
        // Statistics of the last two rounds stay inspectable, for every worker.
        Assert.Equal(4, (await store.ListAsync(rounds + "5/stats/")).Count);
        if (algorithm == "ga-sgd") Assert.NotEmpty(await store.ListAsync(rounds + "5/optimizer/"));
        if (pattern == "tree") Assert.Equal(2, (await store.ListAsync(rounds + "5/tree/")).Count);
        var workers = RunLayout.Root("test-run") + "/workers/";
        var states = (await store.ListAsync(workers)).Select(o => o.Key[workers.Length..].Split('/')).Select(p => (Partition: p[0], Round: RoundOf(p[1], ""))).ToList();
        if (algorithm == "admm")
        {
            Assert.Equal(8, states.Count);
            Assert.All(states, s => Assert.InRange(s.Round, 4, 5));
        }
        else Assert.Empty(states);
        for (var r = 0; r <= 6; r++) Assert.True(await store.ExistsAsync(RunLayout.Model("test-run", r)), $"model {r} was deleted");
        for (var r = 0; r < 6; r++) Assert.True(await store.ExistsAsync(RunLayout.Record("test-run", r)), $"record {r} was deleted");
    }

    [Theory]
    [InlineData("ga-sgd")]
    [InlineData("admm")]
    public async Task Resume_LatestRecordDamaged_FallsBackOneRoundAndFinishesBitIdentical(string algorithm)
    {
        var store = data.NewStore();
        var reference = data.NewStore();
        await PipelineFixture.RunAsync(store, PipelineFixture.Job(algorithm, maxRounds: 4));
        await PipelineFixture.RunAsync(reference, PipelineFixture.Job(algorithm, maxRounds: 6));
        var record = await store.GetAsync(RunLayout.Record("test-run", 3));
        await store.PutAsync(RunLayout.Record("test-run", 3), record.AsMemory(0, record.Length / 2));

        var resumed = await PipelineFixture.RunAsync(store, new System.Text.Json.Nodes.JsonObject
        {
            ["resume"] = new System.Text.Json.Nodes.JsonObject { ["runId"] = "test-run", ["maxRounds"] = 6 },
        });

        // Round 3 is trained again from round 2's optimizer and worker state, which Decide of round 3 kept.
        Assert.True(resumed.Succeeded, $"{resumed.Error}: {resumed.Cause}");
        // Round 3's Decide wrote its record again, whole.
        Assert.Equal(3, System.Text.Json.Nodes.JsonNode.Parse(await store.GetAsync(RunLayout.Record("test-run", 3)))!["metrics"]!["round"]!.GetValue<long>());
        Assert.Equal(await reference.GetAsync(RunLayout.FinalModel("test-run")), await store.GetAsync(RunLayout.FinalModel("test-run")));
    }

    [Fact]
    public async Task Resume_TwoLatestRecordsDamaged_RefusedNamingTheDeletedStateAndNothingChanged()
    {
        var store = data.NewStore();
        await PipelineFixture.RunAsync(store, PipelineFixture.Job("ga-sgd", maxRounds: 4));
        foreach (var round in new[] { 2, 3 })
        {
            var record = await store.GetAsync(RunLayout.Record("test-run", round));
            await store.PutAsync(RunLayout.Record("test-run", round), record.AsMemory(0, record.Length / 2));
        }
        var keys = (await store.ListAsync("runs/test-run/")).Select(o => (o.Key, o.Size)).ToList();

        var resumed = await PipelineFixture.RunAsync(store, new System.Text.Json.Nodes.JsonObject
        {
            ["resume"] = new System.Text.Json.Nodes.JsonObject { ["runId"] = "test-run", ["maxRounds"] = 6 },
        });

        // Record 1 says round 2 comes next, and round 2 reads round 1's momentum, which Decide of round 3 deleted.
        Assert.Equal(nameof(RunNotResumableException), resumed.Error);
        Assert.Contains(RunLayout.Optimizer("test-run", 1, 0), resumed.Cause);
        Assert.Contains(RunLayout.Record("test-run", 3), resumed.Cause);
        Assert.Equal(keys, (await store.ListAsync("runs/test-run/")).Select(o => (o.Key, o.Size)).ToList());
    }
}
