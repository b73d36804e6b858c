using System.Buffers.Binary;
using System.IO.Compression;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Cli.Planning;

/// <summary>What a plan needs to know of a dataset without partitioning it: rows, features, bytes, and for images
/// their shape.</summary>
/// <param name="ValuesPerRow">LIBSVM: the mean non-zeros per row of the first rows read (0 when not counted).</param>
internal sealed record DatasetFacts(long Rows, int Features, long Bytes, int[]? ImageShape = null, int Classes = 0, double ValuesPerRow = 0);

/// <summary>
/// Reads the job's dataset once, streaming: a local file (as <c>stepml run</c> finds it: absolute, beside the job
/// file, or in the working directory) or a key in the store. LIBSVM and CSV: lines counted and the largest feature
/// index (columns) of the first 2,000 rows; IDX: the header; CIFAR-10 binary: records of 3,073 bytes.
/// </summary>
internal static class DatasetProbe
{
    private const int SniffRows = 2_000;

    public static async Task<DatasetFacts> ReadAsync(JobSpec job, string jobDirectory, IObjectStore store, CancellationToken ct)
    {
        var path = job.Dataset.Path;
        var format = job.Dataset.Format.Length > 0 ? job.Dataset.Format
            : path.Contains("-ubyte", StringComparison.Ordinal) ? "idx"
            : path.EndsWith(".bin", StringComparison.Ordinal) ? "cifar"
            : path.EndsWith(".csv", StringComparison.Ordinal) ? "csv" : "libsvm";
        var (stream, bytes) = await OpenAsync(path, jobDirectory, store, ct).ConfigureAwait(false);
        await using var _ = stream.ConfigureAwait(false);
        Stream input = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        switch (format)
        {
            case "idx":
            {
                var header = new byte[16];
                await input.ReadExactlyAsync(header, ct).ConfigureAwait(false);
                var count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
                int height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8)), width = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
                return new DatasetFacts(count, height * width, (long)count * height * width, [height, width, 1], 10);
            }
            case "cifar":
                return new DatasetFacts(bytes / 3073, 3072, bytes, [32, 32, 3], 10);
            default:
                return await TextAsync(input, format, job, bytes, ct).ConfigureAwait(false);
        }
    }

    private static async Task<DatasetFacts> TextAsync(Stream input, string format, JobSpec job, long bytes, CancellationToken ct)
    {
        using var reader = new StreamReader(input);
        long rows = 0;
        var features = job.Dataset.Features;
        var sniffed = 0;
        long values = 0;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0) continue;
            rows++;
            if (rows == 1 && format == "csv" && job.Dataset.CsvHeader) { rows = 0; continue; }
            if (sniffed++ >= SniffRows) continue;
            if (format == "csv") features = Math.Max(features, job.Dataset.Features > 0 ? features : line.Split(',').Length - 1);
            else
                foreach (var token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
                    if (token.IndexOf(':') is > 0 and var colon && int.TryParse(token.AsSpan(0, colon), out var index))
                    {
                        values++;
                        if (job.Dataset.Features == 0) features = Math.Max(features, index);
                    }
        }
        if (rows == 0) throw new JobSpecException("dataset.path", $"'{job.Dataset.Path}' has no rows");
        return new DatasetFacts(rows, Math.Max(1, features), bytes, ValuesPerRow: format == "csv" ? 0 : values / (double)Math.Min(rows, SniffRows));
    }

    private static async Task<(Stream Stream, long Bytes)> OpenAsync(string path, string jobDirectory, IObjectStore store, CancellationToken ct)
    {
        foreach (var candidate in new[] { path, Path.Combine(jobDirectory, path), Path.Combine(Directory.GetCurrentDirectory(), path) })
            if (Path.IsPathFullyQualified(candidate) && File.Exists(candidate))
                return (File.OpenRead(candidate), new FileInfo(candidate).Length);
        var key = ObjectKey.Validate(path, "dataset.path");
        if (!await store.ExistsAsync(key, ct).ConfigureAwait(false))
            throw new JobSpecException("dataset.path", $"'{path}' is neither a local file (beside the job, or in the working directory) nor a key in the store {store.Uri}: name the dataset the plan should size");
        var size = (await store.ListAsync(key, ct).ConfigureAwait(false)).FirstOrDefault(o => o.Key == key)?.Size ?? 0;
        return (await store.OpenReadAsync(key, ct).ConfigureAwait(false), size);
    }
}
