using System.Buffers.Binary;
using System.Runtime.InteropServices;
using StepML.Core.Tensors;

namespace StepML.Core.Data;

public enum LabelMapping
{
    /// <summary>Labels {0, 1} or {-1, +1} become {0, 1}; any other label is an error.</summary>
    Binary,

    /// <summary>Labels are kept as written (regression, KMeans' reference ids).</summary>
    Raw,

    /// <summary>Class ids 0..K−1 (multi-class models), checked row by row with <see cref="ClassLabels"/>.</summary>
    Classes,
}

public sealed record PartitionOptions(
    int Partitions,
    double ValidationFraction,
    ulong Seed,
    int? Features = null,
    bool Sparse = false,
    LabelMapping Labels = LabelMapping.Binary,
    bool CsvHeader = false,
    IReadOnlyList<double>? PartitionWeights = null,
    int? MaxClasses = null);

/// <param name="MaxLabel">The largest label after mapping (multi-class models count classes as MaxLabel + 1).</param>
public sealed record PartitionSummary(int Features, long[] RowsPerPartition, long ValidationRows, long TotalRows, float MaxLabel = float.NaN);

/// <summary>
/// Splits a text dataset into binary <c>.part</c> files without loading it: rows stream from the
/// reader into one spill file per output through bounded buffers, then each output is assembled
/// section by section (labels, then values or CSR arrays) with its checksum and header.
/// </summary>
/// <remarks>
/// Assignment is seeded and deterministic: for every row, in file order, a <see cref="Xoshiro256"/>
/// seeded with <see cref="PartitionOptions.Seed"/> draws u = NextDouble() and p = NextInt(P); the
/// row goes to validation when u &lt; ValidationFraction, else to partition p. The same seed and file
/// give byte-identical outputs. Memory is the reader's 1 MiB line buffer, spill buffers totalling
/// about 32 MiB, and one row — independent of the dataset's size.
/// </remarks>
public static class Partitioner
{
    private const long SpillBudgetBytes = 32L << 20;

    // Above this many outputs, spill files are opened per flush to stay under descriptor limits.
    private const int MaxOpenSpills = 128;

    public static PartitionSummary Run(
        Func<Stream> openInput, string sourceName, DatasetFormat format, PartitionOptions options, string outputDirectory) =>
        Run(openInput, sourceName, format, options, outputDirectory, new BufferBudget());

    internal static PartitionSummary Run(
        Func<Stream> openInput, string sourceName, DatasetFormat format, PartitionOptions options, string outputDirectory, BufferBudget budget)
    {
        ArgumentNullException.ThrowIfNull(openInput);
        ArgumentNullException.ThrowIfNull(options);
        Partition.RequireLittleEndian();
        CheckOptions(options);
        Directory.CreateDirectory(outputDirectory);

        int? features = options.Features;
        if (features is null && format == DatasetFormat.LibSvm)
        {
            features = DiscoverFeatures(openInput, sourceName, budget);
        }

        return RunRows(() => OpenReader(openInput, sourceName, format, options.CsvHeader), sourceName, format == DatasetFormat.Csv, options, features, outputDirectory, budget);
    }

    /// <summary>
    /// Partitions rows from any <see cref="IRowSource"/> (the image readers, say) exactly as text files are: same
    /// seeded assignment, spill files and partition format. <see cref="PartitionOptions.Features"/> is required.
    /// </summary>
    public static PartitionSummary Run(Func<IRowSource> openRows, string sourceName, PartitionOptions options, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(openRows);
        ArgumentNullException.ThrowIfNull(options);
        Partition.RequireLittleEndian();
        CheckOptions(options);
        if (options.Features is null)
        {
            throw new ArgumentException("dataset.features: a row source must state its feature count in PartitionOptions.Features.", nameof(options));
        }

        Directory.CreateDirectory(outputDirectory);
        return RunRows(openRows, sourceName, csvColumns: false, options, options.Features, outputDirectory, new BufferBudget());
    }

    private static PartitionSummary RunRows(
        Func<IRowSource> openRows, string sourceName, bool csvColumns, PartitionOptions options, int? features, string outputDirectory, BufferBudget budget)
    {
        int outputs = options.Partitions + 1; // the last one is validation
        string spillDirectory = Path.Combine(outputDirectory, ".spill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(spillDirectory);
        var spills = new SpillFile[outputs];
        try
        {
            int spillBuffer = (int)Math.Clamp(SpillBudgetBytes / outputs, 16 << 10, 1 << 20);
            bool keepOpen = outputs <= MaxOpenSpills;
            for (int p = 0; p < outputs; p++)
            {
                spills[p] = new SpillFile(Path.Combine(spillDirectory, p + ".spill"), spillBuffer, keepOpen, budget);
            }

            long total;
            float maxLabel;
            (total, features, maxLabel) = Distribute(openRows, sourceName, csvColumns, options, features, spills, budget);
            foreach (SpillFile spill in spills)
            {
                spill.Close();
            }

            long trainRows = total - spills[^1].Rows;
            for (int p = 0; p < options.Partitions; p++)
            {
                if (spills[p].Rows == 0)
                {
                    throw new ArgumentException(
                        $"{sourceName}: partition {p} received no rows ({total} rows, {trainRows} for training, {options.Partitions} partitions): " +
                        $"use fewer partitions (each needs at least one row) or a larger dataset.");
                }
            }

            string[] names = new string[outputs];
            for (int p = 0; p < outputs; p++)
            {
                names[p] = p == options.Partitions ? "validation.part" : p + ".part";
                PartAssembler.CheckFits(spills[p].Rows, spills[p].Values, options.Sparse, features.Value, names[p], options.Partitions);
            }

            // Spill buffers are released by Close; assembly reuses one read and one write buffer.
            var buffers = new AssemblyBuffers(budget);
            for (int p = 0; p < outputs; p++)
            {
                string spillPath = spills[p].Path;
                PartAssembler.Assemble(
                    () => new FileStream(spillPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0), spillPath, options.Sparse,
                    spills[p].Rows, spills[p].Values, options.Sparse, features.Value, Path.Combine(outputDirectory, names[p]), buffers);
            }

            budget.Release(buffers.Read.Length + buffers.Write.Length);

            var rowsPerPartition = new long[options.Partitions];
            for (int p = 0; p < options.Partitions; p++)
            {
                rowsPerPartition[p] = spills[p].Rows;
            }

            return new PartitionSummary(features.Value, rowsPerPartition, spills[^1].Rows, total, maxLabel);
        }
        finally
        {
            foreach (SpillFile? spill in spills)
            {
                spill?.Dispose();
            }

            Directory.Delete(spillDirectory, recursive: true);
        }
    }

    private static void CheckOptions(PartitionOptions options)
    {
        if (options.Partitions < 1)
        {
            throw new ArgumentException($"dataset.partitions must be at least 1 (was {options.Partitions}).", nameof(options));
        }

        if (!(options.ValidationFraction >= 0 && options.ValidationFraction < 1))
        {
            throw new ArgumentException(
                $"dataset.validationFraction must be in [0, 1) (was {options.ValidationFraction}); 0.1 keeps a tenth of the rows for validation.", nameof(options));
        }

        if (options.PartitionWeights is { } weights &&
            (weights.Count != options.Partitions || weights.Any(w => !(w > 0) || !double.IsFinite(w))))
        {
            throw new ArgumentException(
                $"dataset.partitionWeights must hold {options.Partitions} finite numbers > 0, one per partition (was [{string.Join(", ", weights)}]).", nameof(options));
        }

        if (options.Features is < 1)
        {
            throw new ArgumentException($"dataset.features must be at least 1 (was {options.Features}); omit it to count features from a LIBSVM file.", nameof(options));
        }
    }

    // Normalised running sums of the partition weights; the last entry is exactly 1.
    private static double[]? Cumulative(IReadOnlyList<double>? weights)
    {
        if (weights is null)
        {
            return null;
        }

        var cumulative = new double[weights.Count];
        double total = 0;
        for (int p = 0; p < weights.Count; p++)
        {
            total += weights[p];
            cumulative[p] = total;
        }

        for (int p = 0; p < cumulative.Length; p++)
        {
            cumulative[p] /= total;
        }

        cumulative[^1] = 1;
        return cumulative;
    }

    private static int Pick(double[] cumulative, double v)
    {
        int p = 0;
        while (p < cumulative.Length - 1 && v >= cumulative[p])
        {
            p++;
        }

        return p;
    }

    private static IRowSource OpenReader(Func<Stream> openInput, string sourceName, DatasetFormat format, bool csvHeader) => format switch
    {
        DatasetFormat.LibSvm => new LibSvmRows(new LibSvmReader(openInput(), sourceName)),
        DatasetFormat.Csv => new CsvRows(new CsvReader(openInput(), sourceName, csvHeader)),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown dataset format."),
    };

    /// <summary>A dataset without rows: empty (0 lines), or only blank and comment lines.</summary>
    public static DatasetFormatException NoRows(string sourceName, long lines) => new(
        sourceName, lines, lines == 0 ? "the file is empty (0 bytes): upload the data again (an interrupted copy leaves an empty file)." : "the dataset has no rows, only blank or comment lines.");

    private static int DiscoverFeatures(Func<Stream> openInput, string sourceName, BufferBudget budget)
    {
        using IRowSource reader = OpenReader(openInput, sourceName, DatasetFormat.LibSvm, csvHeader: false);
        var row = new DatasetRow();
        int features = 0;
        bool any = false;
        while (reader.Read(row))
        {
            any = true;
            if (row.Count > 0)
            {
                features = Math.Max(features, row.Indices[row.Count - 1] + 1);
            }
        }

        budget.Observe(reader.BufferBytes + row.Indices.Length * 8L);
        if (!any)
        {
            throw NoRows(sourceName, reader.LineNumber);
        }

        return Math.Max(features, 1);
    }

    private static (long Total, int Features, float MaxLabel) Distribute(
        Func<IRowSource> openRows, string sourceName, bool csvColumns, PartitionOptions options, int? features,
        SpillFile[] spills, BufferBudget budget)
    {
        using IRowSource reader = openRows();
        float maxLabel = float.NegativeInfinity;
        int readerBytes = reader.BufferBytes;
        budget.Allocate(readerBytes);
        var row = new DatasetRow();
        var random = new Xoshiro256(options.Seed);
        var labels = new BinaryLabels(sourceName);
        double[]? cumulative = Cumulative(options.PartitionWeights);
        byte[] record = [];
        Span<byte> head = stackalloc byte[8];
        long total = 0;
        while (reader.Read(row))
        {
            if (features is null)
            {
                // CSV: the first row fixes the width; the reader holds every later row to it.
                if (row.Count == 0)
                {
                    throw new DatasetFormatException(sourceName, reader.LineNumber, "the row has a label but no feature columns.");
                }

                features = row.Count;
            }

            float label = options.Labels switch
            {
                LabelMapping.Binary => labels.Map(row.Label, reader.LineNumber),
                LabelMapping.Classes => ClassLabels.Check(row.Label, options.MaxClasses ?? ClassLabels.DefaultMaxClasses, options.MaxClasses is not null, sourceName, reader.LineNumber),
                _ => row.Label,
            };
            maxLabel = Math.Max(maxLabel, label);
            if (row.Count > 0 && row.Indices[row.Count - 1] >= features.Value)
            {
                int needed = row.Indices[row.Count - 1] + 1;
                string what = csvColumns ? $"the row has {row.Count} feature columns, more than" : $"feature index {needed} exceeds";
                throw new DatasetFormatException(
                    sourceName, reader.LineNumber, $"{what} dataset.features = {features.Value}: set dataset.features to {needed} or more.");
            }

            double u = random.NextDouble();
            int p = cumulative is null ? random.NextInt(options.Partitions) : Pick(cumulative, random.NextDouble());
            SpillFile target = u < options.ValidationFraction ? spills[^1] : spills[p];
            if (options.Sparse)
            {
                BinaryPrimitives.WriteSingleLittleEndian(head, label);
                BinaryPrimitives.WriteInt32LittleEndian(head[4..], row.Count);
                target.Append(head);
                target.Append(MemoryMarshal.AsBytes(row.Indices.AsSpan(0, row.Count)));
                target.Append(MemoryMarshal.AsBytes(row.Values.AsSpan(0, row.Count)));
                target.AddRow(row.Count);
            }
            else
            {
                int size = 4 + (4 * features.Value);
                if (record.Length != size)
                {
                    budget.Allocate(size - record.Length);
                    record = new byte[size];
                }

                Span<float> dense = MemoryMarshal.Cast<byte, float>(record.AsSpan(4));
                dense.Clear();
                BinaryPrimitives.WriteSingleLittleEndian(record, label);
                for (int k = 0; k < row.Count; k++)
                {
                    dense[row.Indices[k]] = row.Values[k];
                }

                target.Append(record);
                target.AddRow(features.Value);
            }

            total++;
        }

        budget.Observe(reader.BufferBytes + (row.Indices.Length * 8L));
        budget.Release(readerBytes + record.Length);
        if (total == 0)
        {
            throw NoRows(sourceName, reader.LineNumber);
        }

        return (total, features!.Value, maxLabel);
    }

    private sealed class LibSvmRows(LibSvmReader reader) : IRowSource
    {
        public long LineNumber => reader.LineNumber;

        public int BufferBytes => reader.BufferBytes;

        public bool Read(DatasetRow row) => reader.Read(row);

        public void Dispose() => reader.Dispose();
    }

    private sealed class CsvRows(CsvReader reader) : IRowSource
    {
        public long LineNumber => reader.LineNumber;

        public int BufferBytes => reader.BufferBytes;

        public bool Read(DatasetRow row) => reader.Read(row);

        public void Dispose() => reader.Dispose();
    }

}

