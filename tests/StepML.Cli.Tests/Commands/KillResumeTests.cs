using System.Diagnostics;
using StepML.Cli.Tests.Pipeline;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Cli.Tests.Commands;

/// <summary>The real <c>stepml</c> process killed with SIGKILL at several points of a run, then <c>stepml resume</c>:
/// the final model is byte-identical to an uninterrupted run's, and the killed run kept its history.</summary>
public sealed class KillResumeTests(PipelineFixture data) : IClassFixture<PipelineFixture>
{
    private const int Rounds = 40;

    private static string Stepml => Path.Combine(AppContext.BaseDirectory, "stepml");

    [Theory]
    [InlineData("job.json")]        // during or right after Prepare
    [InlineData("records/1.json")]  // early, with the next round in flight
    [InlineData("records/12.json")] // after several rounds
    public async Task Resume_AfterKill9_FinalModelBitIdenticalToUninterruptedRun(string killWhenExists)
    {
        var store = data.NewStore();
        var reference = data.NewStore();
        var job = PipelineFixture.Job("admm", maxRounds: Rounds, runId: "killed");
        var jobFile = Path.Combine(store.Root, "..", $"{Path.GetFileName(store.Root)}-job.json");
        await File.WriteAllTextAsync(jobFile, job.ToJsonString());
        var marker = Path.Combine(store.Root, "runs", "killed", killWhenExists);

        var killedAt = await RunAndKillAsync(["run", jobFile, "--store", store.Root, "--quiet", "--concurrency", "2"], marker);
        var recordsAtKill = (await store.ListAsync(RunLayout.Records("killed"))).Count;
        var owner = await new FolderRunLedger(Path.Combine(store.Root, "ledger")).ReadAsync("killed");
        var resumed = await RunToEndAsync(["resume", "killed", "--store", store.Root, "--quiet", "--concurrency", "2"]);
        await PipelineFixture.RunAsync(reference, job);

        Assert.True(killedAt, $"the run finished before {killWhenExists} appeared and the kill landed");
        Assert.InRange(recordsAtKill, 0, Rounds - 1);
        Assert.Equal(RunStatus.Running, owner!.Status); // the dead owner never finished: resume must take over from it
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Equal(await reference.GetAsync(RunLayout.FinalModel("killed")), await store.GetAsync(RunLayout.FinalModel("killed")));
        Assert.Equal(Rounds, (await store.ListAsync(RunLayout.Records("killed"))).Count);
        // A process killed after Prepare named the run left its history so far (inside Prepare it cannot know the run).
        var history = (await RunHistory.ReadAsync(store, "killed"))!["executions"]!.AsArray();
        Assert.Equal("SUCCEEDED", history[^1]!["status"]!.GetValue<string>());
        if (recordsAtKill > 0)
        {
            Assert.Equal(2, history.Count);
            Assert.Equal("RUNNING", history[0]!["status"]!.GetValue<string>());
            Assert.Contains(history[0]!["events"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "TaskStateExited");
        }
    }

    [Fact]
    public async Task Run_SecondProcessOnSameRunId_ExitsOneNamingTheOwnerWhileFirstCompletes()
    {
        var store = data.NewStore();
        var jobFile = Path.Combine(store.Root, "..", $"{Path.GetFileName(store.Root)}-job.json");
        await File.WriteAllTextAsync(jobFile, PipelineFixture.Job("admm", maxRounds: 15, runId: "twice").ToJsonString());

        var both = await Task.WhenAll(
            RunToEndAsync(["run", jobFile, "--store", store.Root, "--quiet"]),
            RunToEndAsync(["run", jobFile, "--store", store.Root, "--quiet"]));

        // On failure, show both processes' whole error output (the collection's rendering cuts it).
        Assert.True(both.Count(r => r.Code == 0) == 1, string.Join("\n---\n", both.Select(r => $"exit {r.Code}: {r.Err}")));
        var refused = Assert.Single(both, r => r.Code == 1);
        Assert.Contains("RunOwnedException", refused.Err);
        Assert.Contains("is owned by arn:aws:states:local", refused.Err);
        Assert.Contains("process pid", refused.Err);
        var metrics = await store.GetAsync(RunLayout.Metrics("twice"));
        Assert.Equal(15, System.Text.Encoding.UTF8.GetString(metrics).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>Starts stepml and kills it (SIGKILL) as soon as <paramref name="marker"/> exists; false when it
    /// exited on its own first.</summary>
    private static async Task<bool> RunAndKillAsync(string[] args, string marker)
    {
        using var process = Start(args);
        // The watch runs on a thread of its own: on the thread pool, other test classes' CPU-bound work could delay a
        // 2 ms poll by seconds, long enough for the whole run to finish before the kill lands.
        var killed = await Task.Factory.StartNew(() =>
        {
            var deadline = Stopwatch.StartNew();
            while (!process.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2))
            {
                if (File.Exists(marker))
                {
                    process.Kill(); // SIGKILL on Unix: no handler, no flush, like kill -9
                    return true;
                }
                Thread.Sleep(1);
            }
            return false;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!killed && !process.HasExited) process.Kill();
        await process.WaitForExitAsync();
        return killed;
    }

    private static async Task<(int Code, string Out, string Err)> RunToEndAsync(string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static Process Start(string[] args)
    {
        var info = new ProcessStartInfo(Stepml) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException($"{Stepml} did not start");
    }
}
