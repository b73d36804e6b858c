using System.Text.Json.Nodes;
using StepML.Cli.Commands;
using StepML.Cli.Runs;
using StepML.Cli.Tests.Pipeline;
using StepML.Storage;
using StepML.Storage.S3;
using StepML.Storage.Tests.S3;

namespace StepML.Cli.Tests.Commands;

/// <summary>`stepml runs` and `stepml watch` on real runs: finished, failed and running, on a folder and on S3.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class RunsAndWatchTests(PipelineFixture fixture, S3rverFixture s3) : IClassFixture<PipelineFixture>, IClassFixture<S3rverFixture>
{
    private static JsonObject Job(string runId, int maxRounds = 3)
    {
        var job = PipelineFixture.Job("admm", maxRounds: maxRounds, runId: runId);
        return job;
    }

    private static LocalPipelineOptions Hook(string function, Func<JsonNode, Task> action) => new()
    {
        WrapFunctions = inner => new InterceptingInvoker(inner, before: (f, input) => f == function ? action(input) : Task.CompletedTask),
    };

    [Fact]
    public async Task Runs_FinishedFailedAndRunningRuns_ListsEachWithItsStatus()
    {
        var store = fixture.NewStore();
        Assert.True((await PipelineFixture.RunAsync(store, Job("a-finished"))).Succeeded);
        var failing = Job("b-failed");
        failing["model"]!["l2"] = 1e-3;
        Assert.Equal("FAILED", (await PipelineFixture.RunAsync(store, failing, Hook("Decide", input =>
            input["round"]!.GetValue<long>() == 1 ? throw new InjectedFaultException("decide crashed") : Task.CompletedTask))).Status);
        // The third run is listed from inside its own round 2, while it is running.
        string? listing = null;
        var running = await PipelineFixture.RunAsync(store, Job("c-running"), Hook("Decide", async input =>
        {
            if (input["round"]!.GetValue<long>() == 2 && input["runId"]!.GetValue<string>() == "c-running")
                listing = (await Cli.RunAsync("runs", "--store", store.Root)).Out;
        }));
        Assert.True(running.Succeeded);

        var lines = listing!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("run ", lines[0]);
        Assert.Matches(@"^a-finished\s+finished\s+3\s+0\.\d{6}\s+\$0\.\d{5}", lines.Single(l => l.StartsWith("a-finished", StringComparison.Ordinal)));
        Assert.Matches(@"^b-failed\s+failed: InjectedFaultException\s+1\s+0\.\d{6}", lines.Single(l => l.StartsWith("b-failed", StringComparison.Ordinal)));
        Assert.Matches(@"^c-running\s+running\s+2\s+0\.\d{6}", lines.Single(l => l.StartsWith("c-running", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Watch_FinishedRun_PrintsEveryRoundAndExitsZero()
    {
        var store = fixture.NewStore();
        Assert.True((await PipelineFixture.RunAsync(store, Job("w-done"))).Succeeded);

        var (code, output, error) = await Cli.RunAsync("watch", "w-done", "--store", store.Root, "--interval", "0.05");

        Assert.True(code == 0, error);
        Assert.Contains("round    0  loss 0.693147", output);
        Assert.Contains("round    2  loss", output);
        Assert.Contains("finished after 3 rounds", output);
    }

    [Fact]
    public async Task Watch_FailedRun_PrintsTheErrorAndExitsOne()
    {
        var store = fixture.NewStore();
        await PipelineFixture.RunAsync(store, Job("w-failed"), Hook("Worker", input =>
            input["round"]!.GetValue<long>() == 1 ? throw new InjectedFaultException("worker crashed") : Task.CompletedTask));

        var output = new StringWriter();
        var code = await WatchCommand.WatchAsync(store, "w-failed", TimeSpan.FromMilliseconds(50), output, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Contains("failed after 1 rounds: States.ExceedToleratedFailureThreshold", output.ToString());
    }

    [Fact]
    public async Task Watch_RunningRunOnS3_FollowsItsRoundsWhileItRunsAndExitsWhenItEnds()
    {
        var bucket = s3.CreateBucket();
        var store = new S3ObjectStore(s3.Client, S3StoreLocation.Parse($"s3://{bucket}/team?endpoint={s3.Endpoint}"));
        await using (var file = File.OpenRead(fixture.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        var output = new SynchronizedWriter();
        Task<int>? watcher = null;
        var sawRoundWhileRunning = false;
        var run = PipelineFixture.RunAsync(store, Job("w-s3", maxRounds: 4), Hook("Decide", async input =>
        {
            var round = input["round"]!.GetValue<long>();
            // The watcher starts once the run exists; before round 3 is decided, it must have printed round 1.
            if (round == 1) watcher = WatchCommand.WatchAsync(store, "w-s3", TimeSpan.FromMilliseconds(50), output, CancellationToken.None);
            if (round == 3)
            {
                for (var i = 0; i < 200 && !output.Text.Contains("round    1  loss", StringComparison.Ordinal); i++) await Task.Delay(50);
                sawRoundWhileRunning = output.Text.Contains("round    1  loss", StringComparison.Ordinal);
            }
        }));

        Assert.True((await run).Succeeded);
        var code = await watcher!.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(sawRoundWhileRunning, output.Text);
        Assert.Equal(0, code);
        Assert.Contains("round    3  loss", output.Text);
        Assert.Contains("finished after 4 rounds", output.Text);
        Assert.Contains($"model s3://{bucket}/team/runs/w-s3/model/final.tensor", output.Text.Replace($"?endpoint={s3.Endpoint}", ""));
        Assert.Equal(RunStatus.Finished, (await new RunReader(store).OverviewAsync("w-s3")).Status);
    }

    private sealed class SynchronizedWriter : StringWriter
    {
        private readonly object _gate = new();
        public string Text { get { lock (_gate) return ToString(); } }
        public override void Write(char value) { lock (_gate) base.Write(value); }
        public override void Write(string? value) { lock (_gate) base.Write(value); }
        public override void WriteLine(string? value) { lock (_gate) base.WriteLine(value); }
        public override Task WriteLineAsync(string? value) { WriteLine(value); return Task.CompletedTask; }
    }
}
