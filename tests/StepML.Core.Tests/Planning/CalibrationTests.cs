using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Planning;

namespace StepML.Core.Tests.Planning;

/// <summary>The calibration's pure parts. How well it predicts a timed round is measured by `stepml bench`
/// (`calibration`, cli/StepML.Cli/Bench/CalibrationBenchmark.cs), not here: a timed prediction failed CI runs at high load.</summary>
public class CalibrationTests
{
    [Fact]
    public void Sample_SparseJobWithValuesPerRow_CsrRowsOfThatManyDistinctSortedColumns()
    {
        var job = new JobSpec { Dataset = new DatasetSpec { Sparse = true }, Model = new ModelSpec { Type = ModelTypes.Logistic } };

        var sample = Calibration.Sample(job, 47_236, 200, seed: 3, valuesPerRow: 75.4);
        var slice = Calibration.Slice(sample, 50);

        Assert.True(sample.IsSparse);
        Assert.Equal(200, sample.Rows);
        for (var r = 0; r < sample.Rows; r++)
        {
            var columns = sample.Indices.AsSpan(sample.RowOffsets![r], sample.RowOffsets[r + 1] - sample.RowOffsets[r]).ToArray();
            Assert.Equal(75, columns.Length);
            Assert.Equal(columns.Order(), columns);
            Assert.Equal(columns.Length, columns.Distinct().Count());
            Assert.All(columns, c => Assert.InRange(c, 0, 47_235));
        }
        Assert.All(sample.Values!, v => Assert.InRange(v, 1e-9f, 1f));
        Assert.All(sample.Labels, y => Assert.Contains(y, new[] { -1f, 1f }));
        Assert.True(slice.IsSparse);
        Assert.Equal(50, slice.Rows);
        Assert.Equal(sample.Indices![..(50 * 75)], slice.Indices);
        // Dense data, or a job that does not read sparse partitions, keeps dense rows.
        Assert.False(Calibration.Sample(job with { Dataset = new DatasetSpec { Sparse = false } }, 100, 10, 3, valuesPerRow: 5).IsSparse);
        Assert.False(Calibration.Sample(job, 100, 10, 3, valuesPerRow: 0).IsSparse);
    }

    [Fact]
    public void RowsPerRound_ByAlgorithm_CountsTheRowsWorkTouches()
    {
        var job = new JobSpec();
        Assert.Equal(3 * 1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Admm, LocalEpochs = 3 } }, 1000));
        Assert.Equal(64, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 64 } }, 1000));
        Assert.Equal(1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 0 } }, 1000));
        Assert.Equal(1000, Calibration.RowsPerRound(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.KMeansEm } }, 1000));
    }

    [Fact]
    public void RowsPerWorker_MiniBatchGaSgd_KeepsTheGlobalBatchAtAnyWorkerCount()
    {
        // The job: 8 partitions × batch 128 = 1,024 rows a round, however many workers share them.
        var job = new JobSpec { Dataset = new DatasetSpec { Partitions = 8 }, Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 128 } };

        Assert.Equal(1024, Calibration.RowsPerWorker(job, 60_000, 1));
        Assert.Equal(128, Calibration.RowsPerWorker(job, 60_000, 8));
        Assert.Equal(103, Calibration.RowsPerWorker(job, 60_000, 10));   // ⌈1,024 / 10⌉
        Assert.Equal(4, Calibration.RowsPerWorker(job, 1_000, 256));     // capped by the ⌈1,000 / 256⌉-row partition
        // Passes over the partition (MA-SGD, ADMM) and full batches split the data instead.
        Assert.Equal(2 * 7_500, Calibration.RowsPerWorker(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.MaSgd, LocalEpochs = 2 } }, 60_000, 8));
        Assert.Equal(30_000, Calibration.RowsPerWorker(job with { Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, BatchSize = 0 } }, 60_000, 2));
    }
}
