using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Cli.Bench;

/// <summary><c>stepml bench [--out FILE] [--quick]</c>: measures this machine and prints one JSON document (see
/// bench/README.md for every field). Progress goes to stderr so stdout stays parseable.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Also write the JSON document to this file" };
        var quick = new Option<bool>("--quick") { Description = "Smaller inputs and fewer repetitions (seconds instead of about a minute); the figures are noisier" };
        var command = new Command("bench", "Measure LIBSVM parsing, the tensor codec, the logistic-regression gradient against memory bandwidth, the local engine's per-round overhead and the store requests per round; print them as JSON")
        {
            output, quick,
        };
        command.SetAction(async (parse, ct) =>
        {
            // Checked before the measurements, which take minutes: a mistyped --out fails at once.
            var outPath = parse.GetValue(output) is { } file ? Commands.OutputPaths.File(file.ToString(), "--out") : null;
            var document = await RunAsync(BenchSettings.For(parse.GetValue(quick)), Console.Error, ct).ConfigureAwait(false);
            var text = document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            Console.WriteLine(text);
            if (outPath is not null)
                await File.WriteAllTextAsync(outPath, text + "\n", ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    public static async Task<JsonObject> RunAsync(BenchSettings settings, TextWriter progress, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var document = new JsonObject { ["machine"] = Machine(settings) };

        progress.WriteLine($"bench: LIBSVM parse of {settings.ParseBytes / 1e6:F0} MB");
        document["libsvmParse"] = ParseBenchmark.Run(settings.ParseBytes, settings.Repetitions);
        ct.ThrowIfCancellationRequested();

        progress.WriteLine($"bench: tensor codec, {settings.CodecMegabytes} MB tensor");
        document["tensorCodec"] = CodecBenchmark.Run(settings.CodecMegabytes, settings.Repetitions + 2);
        ct.ThrowIfCancellationRequested();

        progress.WriteLine($"bench: logistic gradient over {settings.GradientRows:N0} × 28 dense rows");
        document["logisticGradient"] = GradientBenchmark.Run(settings.GradientRows, 28, settings.GradientRepetitions);
        ct.ThrowIfCancellationRequested();

        progress.WriteLine("bench: local engine overhead per round");
        document["engineOverhead"] = new JsonArray(
            await EngineOverheadBenchmark.RunAsync(8, settings.EngineRounds8, settings.Repetitions).ConfigureAwait(false),
            await EngineOverheadBenchmark.RunAsync(64, settings.EngineRounds64, settings.Repetitions).ConfigureAwait(false));
        ct.ThrowIfCancellationRequested();

        progress.WriteLine("bench: store requests per round (ADMM and GA-SGD, S = 1 and 4)");
        document["storageRequests"] = await StorageRequestBenchmark.RunAsync(8, settings.StorageRowsPerPartition).ConfigureAwait(false);

        progress.WriteLine("bench: channels (s3, redis, dynamodb): one round's statistic traffic");
        document["channels"] = await ChannelBenchmark.RunAsync(settings.Quick ? [10_000, 100_000] : [10_000, 1_000_000, 10_000_000],
            workers: 4, shards: 2, rounds: settings.Quick ? 2 : 3, progress, ct).ConfigureAwait(false);

        progress.WriteLine("bench: model kernels (dense and sparse linear gradients, KMeans assignment)");
        document["modelKernels"] = ModelKernelBenchmark.Run(settings.Quick, outDir: null, progress);
        progress.WriteLine("bench: neural training (MLP, CNN samples per CPU second; SGEMM)");
        document["neuralTraining"] = ModelBench.RunForBench(settings.Quick);
        ct.ThrowIfCancellationRequested();

        progress.WriteLine("bench: stepml plan's calibration against timed rounds (CNN, softmax, MLP)");
        document["calibration"] = CalibrationBenchmark.Run(settings.Quick ? 1 : 5, progress);
        ct.ThrowIfCancellationRequested();

        document["targetsMet"] = TargetsMet(document);
        document["benchSeconds"] = Measure.Round(clock.Elapsed.TotalSeconds, 2);
        return document;
    }

    private static JsonObject TargetsMet(JsonObject document)
    {
        bool Met(JsonNode? node) => node!["meetsTarget"]!.GetValue<bool>();
        var engine = document["engineOverhead"]!.AsArray();
        return new JsonObject
        {
            ["libsvmParse"] = Met(document["libsvmParse"]),
            ["tensorCodec"] = Met(document["tensorCodec"]),
            ["logisticGradient"] = Met(document["logisticGradient"]),
            ["engineOverhead8"] = Met(engine[0]),
            ["engineOverhead64"] = Met(engine[1]),
            ["storageRequests"] = document["storageRequests"]!.AsArray().All(job => job!["matches"]!.GetValue<bool>()),
            ["calibration"] = document["calibration"]!.AsArray().All(Met),
        };
    }

    private static JsonObject Machine(BenchSettings settings) => new()
    {
        ["processorCount"] = Environment.ProcessorCount,
        ["os"] = RuntimeInformation.OSDescription,
        ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
        ["runtime"] = RuntimeInformation.FrameworkDescription,
        ["vector256"] = Vector256.IsHardwareAccelerated,
        ["avx2"] = Avx2.IsSupported,
        ["avx512"] = Avx512F.IsSupported,
        ["optimizedBuild"] = IsOptimized(),
        ["quick"] = settings.Quick,
        // Parse, codec and gradient times are the measuring thread's CPU time where available (see bench/README.md).
        ["clock"] = Measure.ClockName,
        // Other processes compete for the cores and the memory bus; read the figures as ratios when this is high.
        ["loadAverage1m"] = LoadAverage(),
        ["utc"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The 1-minute load average from /proc/loadavg (Linux), or null where there is none.</summary>
    private static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>False for a Debug build (the JIT optimizer disabled), whose figures mean little.</summary>
    private static bool IsOptimized() =>
        typeof(StepML.Core.Models.LogisticRegression).Assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
}

/// <summary>Input sizes and repetitions. The full run takes about a minute on 2 cores; --quick a few seconds.</summary>
internal sealed record BenchSettings(bool Quick, long ParseBytes, int CodecMegabytes, int GradientRows, int EngineRounds8, int EngineRounds64,
    int StorageRowsPerPartition, int Repetitions, int GradientRepetitions)
{
    public static BenchSettings For(bool quick) => quick
        ? new BenchSettings(true, 30_000_000, 64, 500_000, 20, 10, 200, 2, 5)
        : new BenchSettings(false, 200_000_000, 64, 1_000_000, 200, 50, 1000, 3, 15);
}
