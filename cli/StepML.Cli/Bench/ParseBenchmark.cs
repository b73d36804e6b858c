using System.Text;
using System.Text.Json.Nodes;
using StepML.Core.Data;

namespace StepML.Cli.Bench;

/// <summary>LIBSVM parse throughput on one core: <see cref="LibSvmReader"/> over an in-memory file of Higgs-shaped
/// dense lines (28 features, values printed with 6 significant digits, as <see cref="SyntheticData"/> writes them).</summary>
internal static class ParseBenchmark
{
    public const double TargetMegabytesPerSecond = 150;

    public static JsonObject Run(long targetBytes, int repetitions)
    {
        var file = Generate(targetBytes, features: 28);
        long rows = 0;
        double checksum = 0;
        var row = new DatasetRow();
        var timing = Measure.Best(repetitions, () =>
        {
            rows = 0;
            checksum = 0;
            using var reader = new LibSvmReader(new MemoryStream(file, writable: false), "bench.libsvm");
            while (reader.Read(row))
            {
                rows++;
                checksum += row.Label + row.Count;
            }
        });
        var seconds = timing.Seconds;
        if (rows == 0 || checksum <= 0) throw new InvalidOperationException($"the LIBSVM benchmark parsed {rows} rows; the generated file is broken");
        var megabytesPerSecond = file.Length / seconds / 1e6;
        return new JsonObject
        {
            ["bytes"] = file.LongLength,
            ["rows"] = rows,
            ["repetitions"] = repetitions,
            ["bestSeconds"] = Measure.Round(seconds, 6),
            ["bestWallSeconds"] = Measure.Round(timing.WallSeconds, 6),
            ["megabytesPerSecond"] = Measure.Round(megabytesPerSecond, 1),
            ["rowsPerSecond"] = Math.Round(rows / seconds),
            ["targetMegabytesPerSecond"] = TargetMegabytesPerSecond,
            ["meetsTarget"] = megabytesPerSecond >= TargetMegabytesPerSecond,
        };
    }

    /// <summary>At least <paramref name="targetBytes"/> of LIBSVM text, generated in seeded chunks.</summary>
    internal static byte[] Generate(long targetBytes, int features)
    {
        var buffer = new MemoryStream(checked((int)Math.Min(int.MaxValue, targetBytes + (1 << 20))));
        using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            for (ulong chunk = 0; buffer.Length < targetBytes; chunk++)
            {
                SyntheticData.WriteHiggsLike(writer, 10_000, features, seed: 1000 + chunk);
                writer.Flush();
            }
        }
        return buffer.ToArray();
    }
}
