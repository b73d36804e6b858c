using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Cli.Bench;

/// <summary>
/// <c>stepml bench-neural</c>: training throughput of the neural models (one mini-batch gradient plus an SGD step per
/// iteration, single thread, the Worker's exact code path) and the raw SGEMM rate. Reads the first images of an IDX
/// file (Fashion-MNIST when installed) so bench/pytorch_models.py can time PyTorch on the same bytes.
/// </summary>
internal static class ModelBench
{
    internal const string DefaultImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    internal const string DefaultLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";

    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "IDX images file", DefaultValueFactory = _ => DefaultImages };
        var labels = new Option<string>("--labels") { Description = "IDX labels file", DefaultValueFactory = _ => DefaultLabels };
        var rows = new Option<int>("--rows") { Description = "Images to load", DefaultValueFactory = _ => 8192 };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size", DefaultValueFactory = _ => 64 };
        var seconds = new Option<double>("--seconds") { Description = "Time per measurement", DefaultValueFactory = _ => 5 };
        // JSON lines by default, as `stepml bench` prints JSON; --json is the former switch, kept so old scripts run.
        var json = new Option<bool>("--json") { Description = "Accepted for compatibility: the output is JSON lines anyway", Hidden = true };
        var table = new Option<bool>("--table") { Description = "Aligned text instead of one JSON line per figure" };
        var profile = new Option<string?>("--profile")
        {
            Description = "Instead of the throughput figures, where one network's training step spends its time, per layer kind and shape: resnet20, mobilenet0.5 or cnn",
        };
        profile.AcceptOnlyFromAmong("resnet20", "mobilenet0.5", "cnn");
        var command = new Command("bench-neural", "Training samples per CPU second of the MLP, the CNN, ResNet-20 and MobileNet (α 0.5), and SGEMM GFLOP per CPU second, on one thread")
        {
            images, labels, rows, batch, seconds, table, json, profile,
        };
        command.SetAction(parse =>
        {
            var data = Load(parse.GetValue(images)!, parse.GetValue(labels)!, parse.GetValue(rows));
            if (parse.GetValue(profile) is { } network)
            {
                PrintProfile(network, data, parse.GetValue(batch), parse.GetValue(seconds));
                return 0;
            }
            foreach (var (name, value, unit) in Run(data, parse.GetValue(batch), parse.GetValue(seconds)))
                Console.WriteLine(!parse.GetValue(table)
                    ? string.Create(CultureInfo.InvariantCulture, $"{{\"name\":\"{name}\",\"value\":{value:G6},\"unit\":\"{unit}\"}}")
                    : string.Create(CultureInfo.InvariantCulture, $"{name,-28} {value,12:N1} {unit}"));
            return 0;
        });
        return command;
    }

    public static Partition Load(string images, string labels, int rows)
    {
        using var reader = new IdxReader(File.OpenRead(images), File.OpenRead(labels), images, labels);
        var n = Math.Min(rows, reader.Count);
        var values = new float[n * reader.Features];
        var ys = new float[n];
        var row = new DatasetRow();
        for (var r = 0; r < n && reader.Read(row); r++)
        {
            ys[r] = row.Label;
            for (var k = 0; k < row.Count; k++) values[r * reader.Features + row.Indices[k]] = row.Values[k];
        }
        return Partition.CreateDense(reader.Features, ys, values);
    }

    /// <summary>The neural figures for <c>stepml bench</c>: on the installed Fashion-MNIST training images when present,
    /// else on random 28×28 images (throughput does not depend on the pixel values; the JSON says which).</summary>
    public static System.Text.Json.Nodes.JsonObject RunForBench(bool quick)
    {
        var rows = quick ? 1024 : 8192;
        var installed = File.Exists(DefaultImages) && File.Exists(DefaultLabels);
        Partition data;
        if (installed)
        {
            data = Load(DefaultImages, DefaultLabels, rows);
        }
        else
        {
            var rng = new Xoshiro256(3);
            var values = new float[rows * 784];
            for (var i = 0; i < values.Length; i++) values[i] = (float)rng.NextDouble();
            var labels = new float[rows];
            for (var i = 0; i < rows; i++) labels[i] = rng.NextInt(10);
            data = Partition.CreateDense(784, labels, values);
        }
        var result = new System.Text.Json.Nodes.JsonObject { ["data"] = installed ? "fashion-mnist" : "random 28x28 images", ["rows"] = rows };
        foreach (var (name, value, unit) in Run(data, 64, quick ? 0.5 : 3))
            result[name] = new System.Text.Json.Nodes.JsonObject { ["value"] = Math.Round(value, 3), ["unit"] = unit };
        return result;
    }

    public static IEnumerable<(string Name, double Value, string Unit)> Run(Partition data, int batch, double seconds)
    {
        yield return ("sgemm 256x256x256", Gflops(256, seconds), "GFLOP/s");
        var side = (int)Math.Sqrt(data.Features);
        yield return ("mlp train", SamplesPerSecond(NeuralModels.Mlp(data.Features, [128], 10), data, batch, seconds), "samples/s");
        yield return ("cnn train", SamplesPerSecond(NeuralModels.Cnn(side, side, 1, [16, 32], 3, 10), data, batch, seconds), "samples/s");
        // The deep networks of issue 13, as bench/pytorch_models.py builds them in PyTorch.
        var resnet = ResNet.Create(side, side, 1, 20, 1.0, 10);
        var mobilenet = MobileNet.Create(side, side, 1, 0.5, 10);
        yield return ("resnet20 train", SamplesPerSecond(resnet, data, batch, seconds), "samples/s");
        yield return ("mobilenet0.5 train", SamplesPerSecond(mobilenet, data, batch, seconds), "samples/s");
        // The model tensor a round moves: trained parameters plus the batch-norm state (running E[x], E[x²]).
        yield return ("resnet20 parameters", resnet.ParameterCount, "floats");
        yield return ("mobilenet0.5 parameters", mobilenet.ParameterCount, "floats");
    }

    private static void PrintProfile(string network, Partition data, int batch, double seconds)
    {
        var side = (int)Math.Sqrt(data.Features);
        var model = network switch
        {
            "resnet20" => ResNet.Create(side, side, 1, 20, 1.0, 10),
            "mobilenet0.5" => MobileNet.Create(side, side, 1, 0.5, 10),
            _ => (FeedForwardModel)NeuralModels.Cnn(side, side, 1, [16, 32], 3, 10),
        };
        // About `seconds` of steps, sized by one timed step (after the warm-up that Run does first).
        var first = LayerProfile.Run(model, data, batch, 1).Sum(r => r.SecondsPerStep);
        var steps = Math.Max(3, (int)(seconds / first));
        var rows = LayerProfile.Run(model, data, batch, steps);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{network}, batch {batch}, {steps} steps: {rows.Sum(r => r.SecondsPerStep) * 1000:F1} ms per step (wall time)"));
        foreach (var (name, perStep, share) in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-52} {perStep * 1000,9:F2} ms {share,7:P1}"));
    }

    private static double Gflops(int size, double seconds)
    {
        var rng = new Xoshiro256(1);
        var a = new float[size * size];
        var b = new float[size * size];
        var c = new float[size * size];
        for (var i = 0; i < a.Length; i++) (a[i], b[i]) = (rng.NextFloat(), rng.NextFloat());
        Sgemm.Multiply(false, false, size, size, size, a, size, b, size, c, size, false);
        var clock = CpuClock.Start();
        long calls = 0;
        while (clock.Seconds < seconds / 2)
        {
            Sgemm.Multiply(false, false, size, size, size, a, size, b, size, c, size, false);
            calls++;
        }
        return 2.0 * size * size * size * calls / clock.Seconds / 1e9;
    }

    /// <summary>Mini-batches in storage order, each a LossAndGradient plus w ← w − 0.01·g.</summary>
    private static double SamplesPerSecond(IDifferentiableModel model, Partition data, int batch, double seconds)
    {
        var parameters = new float[model.ParameterCount];
        var gradient = new float[model.ParameterCount];
        model.Initialize(parameters, 1);
        var batches = data.Rows / batch;
        void Step(int i)
        {
            model.LossAndGradient(parameters, data, new RowSelection(i % batches * batch, batch), gradient);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gradient, -0.01f, parameters, parameters);
        }
        for (var i = 0; i < 3; i++) Step(i); // warm up the JIT
        var clock = CpuClock.Start();
        long samples = 0;
        for (var i = 0; clock.Seconds < seconds; i++)
        {
            Step(i);
            samples += batch;
        }
        return samples / clock.Seconds;
    }

    /// <summary>CPU seconds of this process: on a shared machine, wall time measures the neighbours as well.</summary>
    private readonly struct CpuClock
    {
        private readonly TimeSpan _start;
        private CpuClock(TimeSpan start) => _start = start;
        public static CpuClock Start() => new(Process.GetCurrentProcess().TotalProcessorTime);
        public double Seconds => (Process.GetCurrentProcess().TotalProcessorTime - _start).TotalSeconds;
    }
}
