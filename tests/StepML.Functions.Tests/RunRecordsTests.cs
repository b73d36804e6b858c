using System.Text;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Functions.Tests;

/// <summary>Per-round records, metrics.jsonl derived from them, and the owner fence of Decide.</summary>
public sealed class RunRecordsTests : IDisposable
{
    private readonly TestRun _run = new();

    [Fact]
    public async Task Decide_EachRound_WritesItsRecordWithTheNextState()
    {
        var state = await _run.PrepareAsync(TestRun.Job());

        var next = await _run.RoundAsync(await _run.RoundAsync(state));

        var damaged = new List<string>();
        var record = await RunRecords.TryReadAsync(_run.Store, "run-1", 1, damaged);
        Assert.Empty(damaged);
        Assert.Equal(next with { Workers = null, Merged = null }, record!.Next with { Partitions = next.Partitions, Shards = next.Shards });
        Assert.Equal(1, record.Metrics.Round);
    }

    [Fact]
    public async Task Decide_ExecutionWasTakenOver_ThrowsRunOwnedAndWritesNoRound()
    {
        var state = await _run.PrepareAsync(TestRun.Job());
        var workers = await _run.WorkAsync(state);
        var merged = await _run.MergeAsync(state, workers);
        await _run.Context.Ledger.TakeOverAsync("run-1", "resumer", null, force: true);

        await Assert.ThrowsAsync<RunOwnedException>(() => DecideStep.RunAsync(_run.Context, state with { Workers = workers, Merged = merged }));

        Assert.False(await _run.ExistsAsync(RunLayout.Model("run-1", 1)));
        Assert.False(await _run.ExistsAsync(RunLayout.Record("run-1", 0)));
    }

    [Fact]
    public async Task Decide_TruncatedMetricsFile_RebuiltFromRecordsInsteadOfFailing()
    {
        var state = await _run.RoundAsync(await _run.RoundAsync(await _run.PrepareAsync(TestRun.Job())));
        var metrics = await _run.GetAsync(RunLayout.Metrics("run-1"));
        await _run.Store.PutAsync(RunLayout.Metrics("run-1"), metrics.AsMemory(0, metrics.Length / 2));

        await _run.RoundAsync(state);

        var lines = Encoding.UTF8.GetString(await _run.GetAsync(RunLayout.Metrics("run-1"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public async Task ReadAll_DamagedRecord_NamedAndSkipped()
    {
        var state = await _run.PrepareAsync(TestRun.Job());
        for (var i = 0; i < 3; i++) state = await _run.RoundAsync(state);
        await _run.Store.PutAsync(RunLayout.Record("run-1", 1), Encoding.UTF8.GetBytes("{\"metrics\":{\"round\":1"));

        var damaged = new List<string>();
        var records = await RunRecords.ReadAllAsync(_run.Store, "run-1", damaged);

        Assert.Equal([0L, 2], records.Select(r => r.Metrics.Round));
        Assert.Contains(RunLayout.Record("run-1", 1), Assert.Single(damaged));
    }

    public void Dispose() => _run.Dispose();
}
