using StepML.Cli.Progress;
using StepML.Cli.Tests.Pipeline;
using StepML.Functions;

namespace StepML.Cli.Tests.Progress;

/// <summary>The Partition and Assemble Maps' progress line (issue 12 §3, Prepare's ranges), driven by a real run.</summary>
public sealed class PartitionProgressTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    [Fact]
    public async Task Wrap_RealPartitionMaps_CountsEveryRangeRowAndOutputThenClears()
    {
        var output = new StringWriter();
        var progress = new PartitionProgress(output);
        var pipeline = new LocalPipeline(fixture.NewStore(), new LocalPipelineOptions
        {
            WaitTimeScale = 0, Concurrency = 3, PartitionRangeBytes = 100_003, WrapFunctions = progress.Wrap,
        });
        PartitioningState? plan = null;
        var prepared = 0;
        pipeline.Partitioning += s => { plan = s.Partitioning; progress.Planned(s.Partitioning!); };
        pipeline.Prepared += _ => { prepared++; progress.Finished(); };

        var result = await pipeline.RunAsync(PipelineFixture.Job("ga-sgd", maxRounds: 1, runId: "progress").ToJsonString());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.NotNull(plan);
        var ranges = (int)((new FileInfo(fixture.DatasetFile).Length + 100_002) / 100_003);
        Assert.Equal(ranges, plan.Ranges.Length);
        Assert.Equal(1, prepared);
        var lines = output.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();
        // One rewrite per range, then per output; the last range line has every row; the line is cleared at Commit.
        Assert.Equal(ranges + 5, lines.Length);
        Assert.StartsWith($"partitioning: {ranges} of {ranges} ranges, {PipelineFixture.Rows:N0} rows, ", lines[ranges - 1]);
        Assert.Equal("assembling: 5 of 5 outputs (4 partitions and validation)", lines[^1]);
        Assert.DoesNotContain('\n', output.ToString());
        Assert.EndsWith("\r", output.ToString());
    }

    [Fact]
    public async Task Partitioning_ReusedSet_NotRaised()
    {
        var store = fixture.NewStore();
        var job = PipelineFixture.Job("ga-sgd", maxRounds: 1, runId: "first");
        Assert.True((await new LocalPipeline(store, new LocalPipelineOptions { WaitTimeScale = 0 }).RunAsync(job.ToJsonString())).Succeeded);
        var second = new LocalPipeline(store, new LocalPipelineOptions { WaitTimeScale = 0 });
        var raised = 0;
        second.Partitioning += _ => raised++;

        job["runId"] = "second";
        var result = await second.RunAsync(job.ToJsonString());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(0, raised);
    }
}
