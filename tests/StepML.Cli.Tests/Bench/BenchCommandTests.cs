using System.CommandLine;
using System.Text.Json.Nodes;
using StepML.Cli.Bench;

namespace StepML.Cli.Tests.Bench;

/// <summary>`stepml bench --quick` end to end: the document has every field with finite, positive figures. Speed
/// targets are deliberately not asserted (a shared test machine is no place for timing); the store request counts
/// are, because they are exact.</summary>
public class BenchCommandTests
{
    [Fact]
    public async Task Bench_Quick_WritesCompleteDocumentWithSaneFigures()
    {
        var file = Path.Combine(Path.GetTempPath(), $"stepml-bench-{Guid.NewGuid():N}.json");
        try
        {
            var root = new RootCommand { BenchCommand.Create() };
            var exit = await root.Parse(["bench", "--quick", "--out", file]).InvokeAsync();

            Assert.Equal(0, exit);
            var document = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();

            var machine = document["machine"]!;
            Assert.True(machine["quick"]!.GetValue<bool>());
            Assert.True(machine["processorCount"]!.GetValue<int>() >= 1);

            var parse = document["libsvmParse"]!;
            Positive(parse, "bytes", "rows", "bestSeconds", "megabytesPerSecond", "rowsPerSecond", "targetMegabytesPerSecond");
            Assert.True(parse["bytes"]!.GetValue<long>() >= 30_000_000);
            Assert.Equal(150, parse["targetMegabytesPerSecond"]!.GetValue<double>());
            _ = parse["meetsTarget"]!.GetValue<bool>(); // a boolean, whichever way this machine falls
            Assert.Contains(machine["clock"]!.GetValue<string>(), new[] { "thread-cpu", "wall" });

            var codec = document["tensorCodec"]!;
            Positive(codec, "payloadBytes", "encodedBytes", "writeBestSeconds", "readBestSeconds", "writeGigabytesPerSecond", "readGigabytesPerSecond");
            Assert.Equal(64L << 20, codec["payloadBytes"]!.GetValue<long>());

            var gradient = document["logisticGradient"]!;
            Positive(gradient, "rows", "features", "featureBytes", "gradientBestSeconds", "memoryReadBestSeconds",
                "gradientGigabytesPerSecond", "memoryReadGigabytesPerSecond", "ratio", "targetRatio");
            Assert.Equal(28, gradient["features"]!.GetValue<int>());
            // The ratio is the quotient of the two rates it sits next to, not a separate guess.
            var ratio = gradient["gradientGigabytesPerSecond"]!.GetValue<double>() / gradient["memoryReadGigabytesPerSecond"]!.GetValue<double>();
            Assert.InRange(gradient["ratio"]!.GetValue<double>(), ratio * 0.98 - 0.002, ratio * 1.02 + 0.002);
            Assert.InRange(gradient["lossRelativeErrorVsDoubleReference"]!.GetValue<double>(), 0, 1e-5);
            Assert.InRange(gradient["gradientMaxAbsErrorVsDoubleReference"]!.GetValue<double>(), 0, 1e-5);

            var engine = document["engineOverhead"]!.AsArray();
            Assert.Equal([8, 64], engine.Select(e => e!["partitions"]!.GetValue<int>()));
            foreach (var e in engine)
                Positive(e!, "rounds", "bestWallSeconds", "millisecondsPerRound", "taskInvocationsPerRun", "microsecondsPerTaskInvocation", "targetMillisecondsPerRound");

            var kernels = document["modelKernels"]!;
            foreach (var name in new[] { "denseLogistic", "denseHinge", "sparseLogistic", "sparseHinge", "kmeansDense", "kmeansSparse" })
            {
                var rate = kernels[name]!["rowsPerSecond"]!.GetValue<double>();
                Assert.True(double.IsFinite(rate) && rate > 0, $"{name}.rowsPerSecond = {rate}");
            }
            Assert.True(kernels["sparseLogistic"]!["nonZerosPerSecond"]!.GetValue<double>() > 0);
            foreach (var name in new[] { "maSgdBatch100", "admmBatch100" })
                Positive(kernels["sparseLocalUpdates"]![name]!, "denseSeconds", "lazySeconds", "speedUp");

            var storage = document["storageRequests"]!.AsArray();
            Assert.Equal(4, storage.Count);
            foreach (var job in storage)
            {
                foreach (var kind in new[] { "get", "rangedGet", "put", "list", "exists", "delete", "openRead" })
                {
                    Assert.NotNull(job!["expected"]![kind]);
                    Assert.NotNull(job["measured"]![kind]);
                }
                Assert.NotEmpty(job!["table"]!.AsArray());
                Assert.Equal(5, job["perRound"]!.AsArray().Count);
                Assert.True(job["matches"]!.GetValue<bool>(), $"{job["algorithm"]} S={job["shards"]}: {job["mismatches"]!.ToJsonString()}");
                Assert.Equal(0, job["measured"]!["list"]!.GetValue<int>());
            }

            var channels = document["channels"]!["results"]!.AsArray();
            Assert.Equal(6, channels.Count);
            Assert.All(channels, c => Assert.True(c!["skipped"] is not null || c["requestsPerRound"]!.GetValue<double>() > 0));

            var calibration = document["calibration"]!.AsArray();
            Assert.Equal(["cnn-ga-sgd", "softmax-ma-sgd", "mlp-ga-sgd"], calibration.Select(c => c!["job"]!.GetValue<string>()));
            Assert.All(calibration, c => Positive(c!, "predictedMilliseconds", "measuredMilliseconds", "ratio"));

            var targets = document["targetsMet"]!.AsObject();
            Assert.Equal(["libsvmParse", "tensorCodec", "logisticGradient", "engineOverhead8", "engineOverhead64", "storageRequests", "calibration"], targets.Select(t => t.Key));
            Positive(document, "benchSeconds");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void Positive(JsonNode node, params string[] fields)
    {
        foreach (var field in fields)
        {
            var value = node[field] ?? throw new Xunit.Sdk.XunitException($"field '{field}' is missing from {node.ToJsonString()}");
            var number = value.GetValue<double>();
            Assert.True(double.IsFinite(number) && number > 0, $"field '{field}' is {number}; expected a finite, positive figure");
        }
    }
}
