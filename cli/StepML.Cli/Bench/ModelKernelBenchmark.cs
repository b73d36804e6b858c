using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Cli.Bench;

/// <summary>
/// <c>stepml bench-models [--out DIR] [--quick]</c>: throughput of the issue-4 kernels on one core — the dense
/// linear gradient (logistic and hinge, rows/s), the sparse gradient on RCV1-shaped CSR data (non-zeros/s), and the
/// KMeans assignment (rows/s, dense and CSR). With <c>--out</c> it also writes the exact inputs as raw
/// little-endian arrays plus <c>manifest.json</c>, which <c>bench/models_side_by_side.py</c> feeds to PyTorch to print
/// StepML/PyTorch ratios from the same data.
/// </summary>
internal static class ModelKernelBenchmark
{
    public static Command Create()
    {
        var outDir = new Option<DirectoryInfo?>("--out", "--out-dir") { Description = "Write the inputs (raw arrays) and the results (manifest.json) to this folder (--out-dir: the former name)" };
        var quick = new Option<bool>("--quick") { Description = "Smaller inputs and fewer repetitions" };
        var command = new Command("bench-models", "Measure only the model kernels (the 'modelKernels' part of stepml bench), optionally writing their inputs for bench/models_side_by_side.py") { outDir, quick };
        command.SetAction(parse =>
        {
            var document = Run(parse.GetValue(quick), parse.GetValue(outDir), Console.Error);
            Console.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    public static JsonObject Run(bool quick, DirectoryInfo? outDir, TextWriter progress)
    {
        var repetitions = quick ? 3 : 7;
        outDir?.Create();
        var document = new JsonObject { ["repetitions"] = repetitions, ["threads"] = 1 };

        var denseRows = quick ? 50_000 : 400_000;
        progress.WriteLine($"bench-models: dense linear gradient, {denseRows:N0} × 28");
        var dense = DenseData(denseRows, 28, seed: 1);
        var wDense = Parameters(29, seed: 2, scale: 0.3);
        document["denseLogistic"] = Gradient(new LogisticRegression(28), dense, wDense, repetitions);
        document["denseHinge"] = Gradient(new LinearSvm(28), dense, wDense, repetitions);
        Save(outDir, "dense", dense, wDense);

        var sparseRows = quick ? 20_000 : 100_000;
        progress.WriteLine($"bench-models: sparse gradient, {sparseRows:N0} RCV1-like rows × 47,236 features");
        var sparse = Rcv1Like(sparseRows, seed: 3);
        var wSparse = Parameters(47_237, seed: 4, scale: 1);
        document["sparseLogistic"] = Gradient(new LogisticRegression(47_236), sparse, wSparse, repetitions);
        document["sparseHinge"] = Gradient(new LinearSvm(47_236), sparse, wSparse, repetitions);
        Save(outDir, "sparse", sparse, wSparse);
        progress.WriteLine("bench-models: MA-SGD and ADMM local epochs on the sparse rows, lazy against dense updates");
        document["sparseLocalUpdates"] = LocalUpdates(sparse, wSparse, quick);

        var kmeansRows = quick ? 50_000 : 400_000;
        const int kmeansFeatures = 32, clusters = 16;
        progress.WriteLine($"bench-models: KMeans assignment, {kmeansRows:N0} × {kmeansFeatures}, k = {clusters}");
        var points = DenseData(kmeansRows, kmeansFeatures, seed: 5);
        var centroids = Parameters(clusters * kmeansFeatures, seed: 6, scale: 1);
        document["kmeansDense"] = Assignment(new KMeans(kmeansFeatures, clusters), points, centroids, repetitions);
        Save(outDir, "kmeans", points, centroids);
        var sparseCentroids = Parameters(clusters * 47_236, seed: 7, scale: 0.01);
        document["kmeansSparse"] = Assignment(new KMeans(47_236, clusters), sparse, sparseCentroids, repetitions);
        Save(outDir, "kmeans_sparse", sparse, sparseCentroids);

        if (outDir is not null)
            File.WriteAllText(Path.Combine(outDir.FullName, "manifest.json"), document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return document;
    }

    private static JsonObject Gradient(IDifferentiableModel model, Partition data, float[] parameters, int repetitions)
    {
        var gradient = new float[parameters.Length];
        var all = RowSelection.All(data);
        double loss = 0;
        var seconds = BestSeconds(repetitions, () => loss = model.LossAndGradient(parameters, data, all, gradient));
        var result = new JsonObject
        {
            ["rows"] = data.Rows,
            ["features"] = data.Features,
            ["seconds"] = Math.Round(seconds, 6),
            ["rowsPerSecond"] = Math.Round(data.Rows / seconds),
            ["loss"] = loss,
            ["gradientNorm"] = Math.Sqrt(gradient.Sum(g => (double)g * g)),
        };
        if (data.IsSparse)
        {
            result["nonZeros"] = data.Values!.Length;
            result["nonZerosPerSecond"] = Math.Round(data.Values.Length / seconds);
        }
        return result;
    }

    /// <summary>One worker's round of MA-SGD and of ADMM (one local epoch, batches of 100 and of 1000) on the sparse partition,
    /// with local steps over the batch's non-zeros (lazy) and over all d weights (dense, the update before issue 11),
    /// in the same run on the same data.</summary>
    private static JsonObject LocalUpdates(Partition data, float[] parameters, bool quick)
    {
        var repetitions = quick ? 2 : 3;
        var model = new LogisticRegression(data.Features);
        var spec = new AlgorithmSpec { LearningRate = 0.5, BatchSize = 1000, LocalEpochs = 1, Rho = 0.05 };
        var n = parameters.Length;
        var statistic = new float[n];
        var state = new float[2 * n];
        var result = new JsonObject { ["rows"] = data.Rows, ["features"] = data.Features, ["localEpochs"] = spec.LocalEpochs };
        foreach (var (name, make) in new (string, Func<SparseUpdates, IAlgorithm>)[]
        {
            ("maSgdBatch100", u => new MaSgd(spec with { Type = AlgorithmTypes.MaSgd, BatchSize = 100 }, 1e-4, sparseUpdates: u)),
            ("admmBatch100", u => new Admm(spec with { Type = AlgorithmTypes.Admm, BatchSize = 100 }, 1e-4, sparseUpdates: u)),
            ("maSgdBatch1000", u => new MaSgd(spec with { Type = AlgorithmTypes.MaSgd }, 1e-4, sparseUpdates: u)),
            ("admmBatch1000", u => new Admm(spec with { Type = AlgorithmTypes.Admm }, 1e-4, sparseUpdates: u)),
        }.Take(quick ? 2 : 4))
        {
            double Seconds(SparseUpdates updates)
            {
                var algorithm = make(updates);
                return BestSeconds(repetitions, () => algorithm.Work(new WorkerInput(model, data, 0, 1, 7), parameters, [], state, statistic));
            }
            var dense = Seconds(SparseUpdates.Dense);
            var lazy = Seconds(SparseUpdates.Lazy);
            result[name] = new JsonObject
            {
                ["denseSeconds"] = Math.Round(dense, 6),
                ["lazySeconds"] = Math.Round(lazy, 6),
                ["speedUp"] = Math.Round(dense / lazy, 2),
            };
        }
        return result;
    }

    private static JsonObject Assignment(KMeans model, Partition data, float[] centroids, int repetitions)
    {
        var cluster = new int[data.Rows];
        var distance = new float[data.Rows];
        var seconds = BestSeconds(repetitions, () => model.Assign(centroids, data, 0, data.Rows, cluster, distance));
        double inertia = 0;
        foreach (var d in distance) inertia += d;
        var result = new JsonObject
        {
            ["rows"] = data.Rows,
            ["features"] = data.Features,
            ["clusters"] = model.Clusters,
            ["seconds"] = Math.Round(seconds, 6),
            ["rowsPerSecond"] = Math.Round(data.Rows / seconds),
            ["meanInertia"] = inertia / data.Rows,
        };
        if (data.IsSparse) result["nonZerosPerSecond"] = Math.Round(data.Values!.Length / seconds);
        return result;
    }

    /// <summary>Warm-up until the kernel has run 40 times or for 3 s (tiered compilation promotes a method to its
    /// optimised code after 30 calls; timing fewer measures tier-0 code), then the fastest of
    /// <paramref name="repetitions"/> runs (the least disturbed on a shared machine).</summary>
    private static double BestSeconds(int repetitions, Action action)
    {
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; i < 40 && warmUp.Elapsed.TotalSeconds < 3; i++) action();
        var best = double.PositiveInfinity;
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static Partition DenseData(int rows, int features, ulong seed)
    {
        var random = new Xoshiro256(seed);
        var values = new float[(long)rows * features];
        for (var i = 0; i < values.Length; i++) values[i] = (float)random.NextGaussian();
        var labels = new float[rows];
        for (var i = 0; i < rows; i++) labels[i] = random.NextDouble() < 0.5 ? 0f : 1f;
        return Partition.CreateDense(features, labels, values);
    }

    private static float[] Parameters(int count, ulong seed, double scale)
    {
        var random = new Xoshiro256(seed);
        var w = new float[count];
        for (var i = 0; i < count; i++) w[i] = (float)(scale * random.NextGaussian());
        return w;
    }

    // The real path: rcv1like LIBSVM text through the partitioner into one CSR partition.
    private static Partition Rcv1Like(int rows, ulong seed)
    {
        var text = new StringWriter();
        SyntheticData.WriteRcv1Like(text, rows, 47_236, 0.0016, seed);
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var dir = Directory.CreateTempSubdirectory("stepml-bench-sparse-");
        try
        {
            Partitioner.Run(() => new MemoryStream(bytes), "rcv1like.libsvm", DatasetFormat.LibSvm,
                new PartitionOptions(1, 0, seed, Features: 47_236, Sparse: true), dir.FullName);
            return Partition.Decode(File.ReadAllBytes(Path.Combine(dir.FullName, "0.part")), "rcv1like 0.part");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Save(DirectoryInfo? dir, string name, Partition data, float[] parameters)
    {
        if (dir is null) return;
        void Write<T>(string suffix, T[] values) where T : unmanaged =>
            File.WriteAllBytes(Path.Combine(dir.FullName, $"{name}.{suffix}"), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        Write("labels.f32", data.Labels);
        Write("parameters.f32", parameters);
        if (data.IsSparse)
        {
            Write("offsets.i32", data.RowOffsets!);
            Write("indices.i32", data.Indices!);
            Write("values.f32", data.Values!);
        }
        else
        {
            Write("x.f32", data.Dense!);
        }
    }
}
