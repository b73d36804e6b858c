using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Core.Planning;

/// <summary>A worker's compute per round on this machine: <see cref="FixedSeconds"/> + <see cref="SecondsPerRow"/> ×
/// the rows its algorithm touches in a round (<see cref="Calibration.RowsPerRound"/>).</summary>
public sealed record CalibrationResult(double FixedSeconds, double SecondsPerRow, int SampleRows, long Parameters)
{
    public double RoundSeconds(long rowsTouched) => FixedSeconds + SecondsPerRow * rowsTouched;
}

/// <summary>
/// Measures one worker's round of the job's model and algorithm on this machine, on seeded synthetic rows of the job's
/// shape (features, classes, image shape): the same <see cref="IAlgorithm.Work"/> a Lambda worker calls. Two sample
/// sizes give a line (a fixed part for the statistic and the model, a part per row), so a short measurement predicts a
/// round on a partition far larger than the sample.
/// </summary>
public static class Calibration
{
    /// <summary>Rows one worker's <see cref="IAlgorithm.Work"/> touches per round: GA-SGD one mini-batch (or the whole
    /// partition), MA-SGD and ADMM <c>localEpochs</c> passes, KMeans-EM and Newton one pass.</summary>
    public static long RowsPerRound(JobSpec job, long partitionRows) => job.Algorithm.Type switch
    {
        AlgorithmTypes.GaSgd => MiniBatches.IsFullBatch(job.Algorithm.BatchSize, (int)Math.Min(partitionRows, int.MaxValue)) ? partitionRows : job.Algorithm.BatchSize,
        AlgorithmTypes.MaSgd or AlgorithmTypes.Admm => Math.Max(1, job.Algorithm.LocalEpochs) * partitionRows,
        _ => partitionRows,
    };

    /// <summary>Rows one of <paramref name="workers"/> workers touches per round when the job's training is spread over
    /// them: for mini-batch GA-SGD the global batch (the job's partitions × batchSize) stays what it is, so each worker
    /// takes its share of it (and the same rounds mean the same training at any worker count); the other algorithms
    /// pass over a partition of <c>⌈rows / workers⌉</c>.</summary>
    public static long RowsPerWorker(JobSpec job, long trainingRows, int workers)
    {
        var partitionRows = (trainingRows + workers - 1) / workers;
        if (job.Algorithm.Type != AlgorithmTypes.GaSgd || MiniBatches.IsFullBatch(job.Algorithm.BatchSize, (int)Math.Min(partitionRows, int.MaxValue)))
            return RowsPerRound(job, partitionRows);
        var globalBatch = (long)Math.Max(1, job.Dataset.Partitions) * job.Algorithm.BatchSize;
        return Math.Min(partitionRows, (globalBatch + workers - 1) / workers);
    }

    /// <summary>Seeded rows shaped like the job's data: standard normal features (pixels in [0, 1] for images), labels
    /// as the model reads them (±1 binary, class ids, none for KMeans).</summary>
    public static Partition Sample(JobSpec job, int features, int rows, ulong seed, double valuesPerRow = 0)
    {
        if (IsSparseSample(job, features, valuesPerRow)) return SparseSample(job, features, rows, seed, valuesPerRow);
        var random = new Xoshiro256(seed);
        var values = new float[(long)rows * features];
        var images = job.Model.Type == ModelTypes.Cnn;
        for (var i = 0; i < values.Length; i++)
            values[i] = images ? random.NextFloat() : (float)random.NextGaussian();
        var labels = new float[rows];
        var classes = Math.Max(2, job.Model.Classes);
        for (var r = 0; r < rows; r++)
            labels[r] = ModelTypes.IsClassifier(job.Model.Type) ? random.NextInt(classes)
                : job.Model.Type == ModelTypes.KMeans ? 0
                : values[(long)r * features] + 0.5 * random.NextGaussian() > 0 ? 1 : -1;
        return Partition.CreateDense(features, labels, values);
    }

    /// <summary>A sparse job (<c>dataset.sparse</c>) is timed on CSR rows with the dataset's non-zeros per row: dense
    /// rows of all its features would price every feature of every row (hundreds of times the work at RCV1's 0.16%).</summary>
    private static bool IsSparseSample(JobSpec job, int features, double valuesPerRow) =>
        job.Dataset.Sparse && valuesPerRow > 0 && valuesPerRow < features;

    /// <summary>Seeded CSR rows: <paramref name="valuesPerRow"/> (rounded, at least 1) distinct sorted columns per row
    /// with TF-IDF-like values in (0, 1], labels as <see cref="Sample"/> draws them.</summary>
    private static Partition SparseSample(JobSpec job, int features, int rows, ulong seed, double valuesPerRow)
    {
        var random = new Xoshiro256(seed);
        var k = (int)Math.Clamp(Math.Round(valuesPerRow), 1, features);
        var offsets = new int[rows + 1];
        var indices = new int[(long)rows * k];
        var values = new float[indices.Length];
        var labels = new float[rows];
        var classes = Math.Max(2, job.Model.Classes);
        var row = new SortedSet<int>();
        for (var r = 0; r < rows; r++)
        {
            row.Clear();
            while (row.Count < k) row.Add(random.NextInt(features));
            var at = r * k;
            foreach (var column in row)
            {
                indices[at] = column;
                values[at++] = 1f - random.NextFloat();
            }
            offsets[r + 1] = at;
            labels[r] = ModelTypes.IsClassifier(job.Model.Type) ? random.NextInt(classes)
                : job.Model.Type == ModelTypes.KMeans ? 0
                : random.NextFloat() < 0.5f ? 1 : -1;
        }
        return Partition.CreateSparse(features, labels, offsets, indices, values);
    }

    /// <summary>Below this many bytes a sample sits in the processor's caches, and its rounds run several times faster
    /// per row than a partition's (measured on the 2-core build machine: KMeans 0.56 µs per row at 2,048 rows of 20
    /// features, 4 µs from 4,096 rows on; ADMM 0.04 µs per row touched at 24,000 rows of 28 features, 0.26 µs at 52,428).</summary>
    public const long MinimumSampleBytes = 16L << 20;

    /// <summary>Calibrates for partitions of <paramref name="partitionRows"/> rows. The kernels are first called often
    /// enough for the JIT's tiering to optimise them; the sample then doubles from 256 rows until a round takes
    /// <paramref name="targetSeconds"/> on at least <see cref="MinimumSampleBytes"/> of rows, or the sample is the
    /// partition; the slope between the fastest of <paramref name="repeats"/> rounds at that size and at half of it,
    /// the intercept where that line meets the sample's round.</summary>
    /// <param name="valuesPerRow">The dataset's mean non-zeros per row; a sparse job is timed on CSR rows with as many
    /// (0: dense rows).</param>
    public static CalibrationResult Measure(JobSpec job, int features, long partitionRows, ulong seed = 1,
        double targetSeconds = 0.05, int repeats = 3, int maxSampleRows = 1 << 20, double valuesPerRow = 0)
    {
        var spec = job.Model.Classes == 0 && ModelTypes.IsClassifier(job.Model.Type) ? job with { Model = job.Model with { Classes = 10 } } : job;
        var model = Models.Models.Create(spec.Model, features);
        var algorithm = Algorithms.Algorithms.Create(spec);
        // A CSR row holds an index and a value per non-zero, and its label.
        var rowBytes = IsSparseSample(spec, features, valuesPerRow) ? (long)Math.Ceiling(valuesPerRow * 2 * sizeof(float)) + sizeof(float) : (features + 1L) * sizeof(float);
        // The sample needs no more rows than the growth below can reach: the time target, then the cache bound.
        var cap = (int)Math.Min(Math.Min(Math.Max(partitionRows, 1), maxSampleRows), Math.Max(4 * MinimumSampleBytes / rowBytes, 1024));
        var rows = Math.Min(cap, 256);
        var sample = Sample(spec, features, cap, seed, valuesPerRow);
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, seed, sample);
        var runner = new Runner(model, algorithm, parameters);

        var tinyRows = Math.Min(cap, 64);
        runner.Time(Slice(sample, tinyRows), 32); // past the JIT's tier-0 (30 calls)
        var tiny = runner.Time(Slice(sample, tinyRows), repeats);
        var seconds = runner.Time(Slice(sample, rows), 1);
        while ((seconds < targetSeconds || rows * rowBytes < MinimumSampleBytes) && rows < cap)
        {
            rows = Math.Min(cap, rows * 2);
            seconds = runner.Time(Slice(sample, rows), 1);
        }
        var large = runner.Time(Slice(sample, rows), repeats);
        double touchedLarge = RowsPerRound(spec, rows), touchedTiny = RowsPerRound(spec, tinyRows);
        if (touchedLarge <= touchedTiny)
            return new CalibrationResult(large, 0, rows, model.ParameterCount);
        // The slope between the sample and its half, both past the caches: shuffled mini-batches over more rows miss
        // more (the marginal row costs more than the average one), and that is the regime of real partitions.
        var halfRows = Math.Max(tinyRows + 1, rows / 2);
        var half = runner.Time(Slice(sample, halfRows), repeats);
        double touchedHalf = RowsPerRound(spec, halfRows);
        var perRow = touchedLarge > touchedHalf ? (large - half) / (touchedLarge - touchedHalf) : 0;
        // Noise can flatten or invert that slope: the line from the 64-row round (the fixed work) bounds it below.
        perRow = Math.Max(perRow, Math.Max(0, (large - tiny) / (touchedLarge - touchedTiny)));
        return new CalibrationResult(Math.Clamp(large - perRow * touchedLarge, 0, large), perRow, rows, model.ParameterCount);
    }

    /// <summary>The first <paramref name="rows"/> rows of a partition.</summary>
    public static Partition Slice(Partition data, int rows) => rows >= data.Rows
        ? data
        : data.IsSparse
            ? Partition.CreateSparse(data.Features, data.Labels[..rows], data.RowOffsets![..(rows + 1)],
                data.Indices![..data.RowOffsets[rows]], data.Values![..data.RowOffsets[rows]])
            : Partition.CreateDense(data.Features, data.Labels[..rows], data.Dense![..(rows * data.Features)]);

    /// <summary>Runs one worker's round (round 0, partition 0) and times it.</summary>
    public sealed class Runner(IModel model, IAlgorithm algorithm, float[] parameters)
    {
        private readonly float[] _statistic = new float[(long)model.ParameterCount * algorithm.StatisticStride];
        // Worker state may be sized by the partition's rows (CoCoA+'s duals): sized for the data timed.
        private float[] _state = [];

        /// <summary>The fastest of <paramref name="repeats"/> rounds on <paramref name="data"/>: other processes on this
        /// machine only ever slow a round down (a loaded 2-core machine varied 5× between identical rounds), and a
        /// Lambda worker has its vCPU share to itself.</summary>
        public double Time(Partition data, int repeats)
        {
            var times = new double[repeats];
            var stateLength = algorithm.WorkerStateLength(model.ParameterCount, data.Rows);
            if (_state.Length != stateLength) _state = new float[stateLength];
            for (var i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                algorithm.Work(new WorkerInput(model, data, 0, 0, 1), parameters, [], _state, _statistic);
                times[i] = clock.Elapsed.TotalSeconds;
            }
            return times.Min();
        }
    }
}
