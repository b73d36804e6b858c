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
    private const int AssemblyBufferBytes = 1 << 20;

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
                CheckFits(spills[p], options.Sparse, features.Value, names[p], options.Partitions);
            }

            // Spill buffers are released by Close; assembly reuses one read and one write buffer.
            var buffers = new AssemblyBuffers(budget);
            for (int p = 0; p < outputs; p++)
            {
                Assemble(spills[p], options.Sparse, features.Value, Path.Combine(outputDirectory, names[p]), buffers);
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

    private static DatasetFormatException NoRows(string sourceName, long lines) => new(
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
                string what = csvColumns ? $"the row has {row.Count} feature columns" : $"feature index {needed}";
                throw new DatasetFormatException(
                    sourceName, reader.LineNumber, $"{what} exceeds dataset.features = {features.Value}: set dataset.features to {needed} or more.");
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

    // A partition is decoded from one byte array, so it must stay under Array.MaxLength bytes.
    private static void CheckFits(SpillFile spill, bool sparse, int features, string name, int partitions)
    {
        long bodyLength = Partition.BodyLength(sparse, spill.Rows, features, spill.Values);
        if (Partition.HeaderSize + bodyLength > Array.MaxLength || spill.Rows > int.MaxValue - 1)
        {
            long needed = (long)Math.Ceiling(partitions * (double)(Partition.HeaderSize + bodyLength) / Array.MaxLength) + 1;
            throw new ArgumentException(
                $"{name} would hold {bodyLength} bytes, more than one partition may (2 GiB): set dataset.partitions to {needed} or more.");
        }
    }

    private static void Assemble(SpillFile spill, bool sparse, int features, string path, AssemblyBuffers buffers)
    {
        long bodyLength = Partition.BodyLength(sparse, spill.Rows, features, spill.Values);
        string temporary = path + ".tmp";
        try
        {
            WriteAssembled(spill, sparse, features, temporary, bodyLength, buffers);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void WriteAssembled(SpillFile spill, bool sparse, int features, string temporary, long bodyLength, AssemblyBuffers buffers)
    {
        using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            output.Write(new byte[Partition.HeaderSize]);
            var body = new SectionWriter(output, buffers.Write);

            // Pass 1: labels.
            Span<byte> bytes = stackalloc byte[4];
            using (var records = new SpillReader(spill.Path, sparse, features, buffers))
            {
                while (records.Next(out float label, out _, out _))
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes, label);
                    body.Write(bytes);
                }
            }

            if (sparse)
            {
                // Pass 2: row offsets (a running sum of the per-row counts).
                Span<byte> offset = stackalloc byte[4];
                int running = 0;
                body.Write(offset); // starts zeroed
                using (var records = new SpillReader(spill.Path, sparse, features, buffers))
                {
                    while (records.Next(out _, out ReadOnlySpan<byte> indices, out _))
                    {
                        running += indices.Length / 4;
                        BinaryPrimitives.WriteInt32LittleEndian(offset, running);
                        body.Write(offset);
                    }
                }

                // Pass 3: column indices.
                using (var records = new SpillReader(spill.Path, sparse, features, buffers))
                {
                    while (records.Next(out _, out ReadOnlySpan<byte> indices, out _))
                    {
                        body.Write(indices);
                    }
                }
            }

            // Last pass: values.
            using (var records = new SpillReader(spill.Path, sparse, features, buffers))
            {
                while (records.Next(out _, out _, out ReadOnlySpan<byte> values))
                {
                    body.Write(values);
                }
            }

            body.Flush();
            if (body.Written != bodyLength)
            {
                throw new InvalidOperationException($"{temporary}: assembled {body.Written} body bytes, expected {bodyLength}.");
            }

            Span<byte> header = stackalloc byte[Partition.HeaderSize];
            Partition.WriteHeader(header, sparse, (int)spill.Rows, features, spill.Values, bodyLength, body.Crc);
            output.Position = 0;
            output.Write(header);
        }
    }

    // Maps {0,1} and {-1,+1} to {0,1}, and refuses anything else or a mix of 0 and -1.
    private sealed class BinaryLabels(string source)
    {
        private long _zeroLine;
        private long _minusOneLine;

        public float Map(float label, long line)
        {
            if (label == 1f)
            {
                return 1f;
            }

            if (label == 0f)
            {
                _zeroLine = _zeroLine == 0 ? line : _zeroLine;
            }
            else if (label == -1f)
            {
                _minusOneLine = _minusOneLine == 0 ? line : _minusOneLine;
            }
            else
            {
                throw new DatasetFormatException(
                    source, line, $"label {label} is not binary: binary labels are 0/1 or -1/+1; use the Raw label mapping for regression or multi-class data.");
            }

            if (_zeroLine != 0 && _minusOneLine != 0)
            {
                throw new DatasetFormatException(
                    source, line, $"labels mix 0 (line {_zeroLine}) and -1 (line {_minusOneLine}): binary labels are either 0/1 or -1/+1; use the Raw label mapping for three classes.");
            }

            return 0f;
        }
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

    // Append-only spill of row records through a fixed buffer.
    private sealed class SpillFile : IDisposable
    {
        private byte[] _buffer;
        private readonly bool _keepOpen;
        private readonly BufferBudget _budget;
        private FileStream? _stream;
        private int _used;

        public SpillFile(string path, int bufferBytes, bool keepOpen, BufferBudget budget)
        {
            Path = path;
            _buffer = new byte[bufferBytes];
            _keepOpen = keepOpen;
            _budget = budget;
            budget.Allocate(bufferBytes);
            File.WriteAllBytes(path, []);
        }

        public string Path { get; }

        public long Rows { get; private set; }

        public long Values { get; private set; }

        public void AddRow(int values)
        {
            Rows++;
            Values += values;
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > _buffer.Length - _used)
            {
                Flush();
                if (bytes.Length > _buffer.Length)
                {
                    Write(bytes);
                    return;
                }
            }

            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
        }

        // Flushes, closes the file and gives the buffer back; no appends after this.
        public void Close()
        {
            Flush();
            _stream?.Dispose();
            _stream = null;
            _budget.Release(_buffer.Length);
            _buffer = [];
        }

        private void Flush()
        {
            if (_used > 0)
            {
                Write(_buffer.AsSpan(0, _used));
                _used = 0;
            }
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            _stream ??= new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
            _stream.Write(bytes);
            if (!_keepOpen)
            {
                _stream.Dispose();
                _stream = null;
            }
        }

        public void Dispose()
        {
            _stream?.Dispose();
            _stream = null;
            _budget.Release(_buffer.Length);
            _buffer = [];
        }
    }

    // Reads spill records back: label, then the row's index and value bytes (dense rows have no indices).
    private sealed class SpillReader : IDisposable
    {
        private readonly FileStream _stream;
        private readonly bool _sparse;
        private readonly int _denseBytes;
        private readonly AssemblyBuffers _buffers;
        private byte[] _buffer;
        private int _start;
        private int _end;

        public SpillReader(string path, bool sparse, int features, AssemblyBuffers buffers)
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            _sparse = sparse;
            _denseBytes = 4 * features;
            _buffers = buffers;
            _buffer = buffers.Read;
        }

        public bool Next(out float label, out ReadOnlySpan<byte> indices, out ReadOnlySpan<byte> values)
        {
            indices = default;
            values = default;
            label = 0;
            int head = _sparse ? 8 : 4;
            if (!Ensure(head))
            {
                return false;
            }

            label = BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(_start));
            int payload = _sparse ? 8 * BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start + 4)) : _denseBytes;
            if (!Ensure(head + payload))
            {
                throw new InvalidDataException($"{_stream.Name}: spill file ends inside a record.");
            }

            int at = _start + head;
            if (_sparse)
            {
                indices = _buffer.AsSpan(at, payload / 2);
                values = _buffer.AsSpan(at + (payload / 2), payload / 2);
            }
            else
            {
                values = _buffer.AsSpan(at, payload);
            }

            _start += head + payload;
            return true;
        }

        // Makes count bytes available at _start; false only at a clean end of file.
        private bool Ensure(int count)
        {
            if (_end - _start >= count)
            {
                return true;
            }

            if (count > _buffer.Length)
            {
                var larger = new byte[count];
                _buffers.Budget.Allocate(count - _buffer.Length);
                _buffer.AsSpan(_start, _end - _start).CopyTo(larger);
                _end -= _start;
                _start = 0;
                _buffer = larger;
                _buffers.Read = larger;
            }
            else
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            while (_end < count)
            {
                int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
                if (read == 0)
                {
                    return _end == 0 ? false : throw new InvalidDataException($"{_stream.Name}: spill file ends inside a record.");
                }

                _end += read;
            }

            return true;
        }

        public void Dispose() => _stream.Dispose();
    }

    // The read and write buffers every assembly pass shares, allocated once per run.
    private sealed class AssemblyBuffers
    {
        public AssemblyBuffers(BufferBudget budget)
        {
            Budget = budget;
            Read = new byte[AssemblyBufferBytes];
            Write = new byte[AssemblyBufferBytes];
            budget.Allocate(2 * AssemblyBufferBytes);
        }

        public BufferBudget Budget { get; }

        public byte[] Read { get; set; }

        public byte[] Write { get; }
    }

    // Buffered sequential writer that checksums the bytes as they leave the buffer.
    private sealed class SectionWriter
    {
        private readonly Stream _output;
        private readonly byte[] _buffer;
        private int _used;

        public SectionWriter(Stream output, byte[] buffer)
        {
            _output = output;
            _buffer = buffer;
        }

        public uint Crc { get; private set; }

        public long Written { get; private set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                int take = Math.Min(bytes.Length, _buffer.Length - _used);
                bytes[..take].CopyTo(_buffer.AsSpan(_used));
                _used += take;
                bytes = bytes[take..];
                if (_used == _buffer.Length)
                {
                    Flush();
                }
            }
        }

        public void Flush()
        {
            ReadOnlySpan<byte> chunk = _buffer.AsSpan(0, _used);
            Crc = Crc32C.Append(Crc, chunk);
            _output.Write(chunk);
            Written += _used;
            _used = 0;
        }
    }
}

// Accounts for the buffers the partitioner allocates by design, so tests can bound them.
internal sealed class BufferBudget
{
    private long _current;

    public long Peak { get; private set; }

    public void Allocate(long bytes)
    {
        _current += bytes;
        Peak = Math.Max(Peak, _current);
    }

    public void Release(long bytes) => _current -= bytes;

    // Records a transient total (e.g. a reader's buffer that grew) against the peak.
    public void Observe(long bytes) => Peak = Math.Max(Peak, _current + bytes);
}
