using StepML.Cli.Gc;
using StepML.Cli.Tests.Pipeline;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.Commands;

public sealed class GcCommandTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Find_FinishedRunsAndAnOrphanSet_DeletesStatisticsAndTheOrphanKeepsWhatRunsNeed()
    {
        var store = fixture.NewStore();
        var admm = PipelineFixture.Job("admm", maxRounds: 3, runId: "kept");
        Assert.True((await PipelineFixture.RunAsync(store, admm)).Succeeded);
        var used = (await RunData.RecordAsync(store, "kept")).PartitionSet;
        // A second run on another seed makes a second set; then its run is deleted: the set is an orphan.
        var other = PipelineFixture.Job("ga-sgd", maxRounds: 2, runId: "gone");
        other["seed"] = 9;
        Assert.True((await PipelineFixture.RunAsync(store, other)).Succeeded);
        var orphan = (await RunData.RecordAsync(store, "gone")).PartitionSet;
        foreach (var info in await store.ListAsync("runs/gone/")) await store.DeleteAsync(info.Key);

        var garbage = await StoreCollector.FindAsync(store);
        await StoreCollector.DeleteAsync(store, garbage);

        Assert.Empty(await store.ListAsync(RunLayout.PartitionSet(orphan) + "/"));
        Assert.True(await store.ExistsAsync(RunLayout.SetManifest(used)));
        Assert.True(await store.ExistsAsync(RunLayout.SetPartition(used, 0)));
        Assert.Empty(await store.ListAsync("runs/kept/rounds/0/"));
        Assert.DoesNotContain(await store.ListAsync("runs/kept/rounds/"), o => !o.Key.Contains("/optimizer/", StringComparison.Ordinal));
        // ADMM's worker state: only the last round's is kept (what a resume reads).
        var states = (await store.ListAsync("runs/kept/workers/0/")).Select(o => o.Key).ToArray();
        Assert.Single(states);
        foreach (var key in new[] { RunLayout.Job("kept"), RunLayout.DatasetRecord("kept"), RunLayout.Model("kept", 0), RunLayout.Model("kept", 3),
                     RunLayout.FinalModel("kept"), RunLayout.Metrics("kept"), RunLayout.Report("kept"), PipelineFixture.DatasetKey })
            Assert.True(await store.ExistsAsync(key), key);
        // The run's partitions still serve it: a second gc finds nothing.
        Assert.Empty(await StoreCollector.FindAsync(store));
    }

    [Fact]
    public async Task Find_RunNotFinished_KeepsItsRounds()
    {
        var store = fixture.NewStore();
        Assert.True((await PipelineFixture.RunAsync(store, PipelineFixture.Job("ga-sgd", maxRounds: 2, runId: "running"))).Succeeded);
        await store.DeleteAsync(RunLayout.FinalModel("running")); // as if it were still training

        var garbage = await StoreCollector.FindAsync(store);

        Assert.DoesNotContain(garbage, g => g.Key.StartsWith("runs/running/", StringComparison.Ordinal));
    }
}
