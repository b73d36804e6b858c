using System.Text;
using StepML.Core.Data;
using StepML.Core.Jobs;

namespace StepML.Functions.Tests;

/// <summary>Out-of-range sizes are named errors at Prepare, before anything of the run is allocated or written.</summary>
public class SizeLimitsTests
{
    private static async Task<Exception> PrepareFailsAsync(TestRun run, string job)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => run.PrepareAsync(job));
        Assert.Empty(await run.KeysAsync("runs/"));
        return e;
    }

    private static async Task PutLabelsAsync(TestRun run, string key, params string[] labels) =>
        await run.Store.PutAsync(key, Encoding.ASCII.GetBytes(string.Concat(labels.Select((l, i) => $"{l} 1:{i * 0.1:F1} 2:1\n"))));

    [Fact]
    public async Task Prepare_SoftmaxLabelOfOneBillion_FailsNamingFileAndLineWithoutAllocating()
    {
        using var run = new TestRun();
        await PutLabelsAsync(run, "datasets/classes.libsvm", "0", "1", "2", "1e9", "1");
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var e = Assert.IsType<DatasetFormatException>(await PrepareFailsAsync(run, """
            { "runId": "r", "dataset": { "path": "datasets/classes.libsvm", "partitions": 1 }, "model": { "type": "softmax" } }
            """));

        Assert.Equal("datasets/classes.libsvm", e.FileName);
        Assert.Equal(4, e.LineNumber);
        Assert.Contains("100,000", e.Message);
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - before, 0, 256L << 20);
    }

    [Theory]
    [InlineData("2.5", "not a class id")]
    [InlineData("-1", "not a class id")]
    public async Task Prepare_SoftmaxLabelNotAClassId_FailsNamingTheLine(string label, string expected)
    {
        using var run = new TestRun();
        await PutLabelsAsync(run, "datasets/classes.libsvm", "0", "1", label, "2", "1");

        var e = Assert.IsType<DatasetFormatException>(await PrepareFailsAsync(run, """
            { "runId": "r", "dataset": { "path": "datasets/classes.libsvm", "partitions": 1 }, "model": { "type": "mlp", "hidden": [4] } }
            """));

        Assert.Equal(3, e.LineNumber);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Prepare_LabelAtOrAboveModelClasses_FailsSayingWhichClassesToSet()
    {
        using var run = new TestRun();
        await PutLabelsAsync(run, "datasets/classes.libsvm", "0", "1", "3");

        var e = Assert.IsType<DatasetFormatException>(await PrepareFailsAsync(run, """
            { "runId": "r", "dataset": { "path": "datasets/classes.libsvm", "partitions": 1 }, "model": { "type": "softmax", "classes": 3 } }
            """));

        Assert.Equal(3, e.LineNumber);
        Assert.Contains("model.classes to 4", e.Message);
    }

    [Fact]
    public async Task Prepare_ModelOverTwoToThe31Parameters_FailsWithTheTrueCount()
    {
        using var run = new TestRun();

        var e = Assert.IsType<JobSpecException>(await PrepareFailsAsync(run, TestRun.Job(algorithm: "kmeans-em", extra: """, "model": { "type": "kmeans", "clusters": 1000 } """)
            .Replace("\"partitions\": 3", "\"partitions\": 3, \"features\": 3000000")));

        Assert.Equal("model.clusters", e.Field);
        Assert.Contains("3,000,000,000 parameters", e.Message);
    }

    [Fact]
    public async Task Prepare_ModelTooLargeForWorkerMemory_FailsNamingMemoryMb()
    {
        using var run = new TestRun();

        var e = Assert.IsType<JobSpecException>(await PrepareFailsAsync(run, TestRun.Job(algorithm: "kmeans-em", extra: """, "model": { "type": "kmeans", "clusters": 100 }, "workers": { "memoryMb": 1024 } """)
            .Replace("\"partitions\": 3", "\"partitions\": 3, \"features\": 1000000")));

        Assert.Equal("workers.memoryMb", e.Field);
        Assert.Contains("100,000,000 parameters", e.Message);
        Assert.Contains("use a smaller model", e.Message);
    }

    [Fact]
    public async Task Prepare_PartitionTooLargeForWorkerMemory_SuggestsMemoryOrPartitions()
    {
        using var run = new TestRun();
        // 600 rows × 20,000 dense features × 4 bytes ≈ 48 MB in one partition: 2 × 48 + 64 MB runtime > 128 MB.
        var e = Assert.IsType<JobSpecException>(await PrepareFailsAsync(run, TestRun.Job(partitions: 1, extra: """, "workers": { "memoryMb": 128 } """)
            .Replace("\"partitions\": 1", "\"partitions\": 1, \"features\": 20000")));

        Assert.Equal("workers.memoryMb", e.Field);
        Assert.Contains("dataset.partitions to", e.Message);
    }

    [Fact]
    public void ParameterCount_MlpBeyondIntRange_IsExactInLong()
    {
        var model = new ModelSpec { Type = ModelTypes.Mlp, Hidden = [65_536, 65_536], Classes = 10 };

        Assert.Equal(65_537L * 65_536 + 65_537L * 65_536 + 65_537L * 10, SizeLimits.ParameterCount(model, 65_536));
    }
}
