using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace StepML.Core.Data;

/// <summary>What one range task reads: bytes [Start, End) of the text file <see cref="Key"/>.</summary>
/// <param name="CsvHeader">The file's first line is a header (skipped by the range that starts at 0).</param>
public sealed record RangeTask(string Key, long Start, long End, DatasetFormat Format, bool CsvHeader = false);

/// <summary>What a range task found: rows and non-zeros per output (training partitions, then validation), the
/// width seen (LIBSVM: largest index + 1; CSV: feature columns, -1 without rows), the largest mapped label and
/// which binary label convention appeared.</summary>
public sealed record RangeSummary(long[] Rows, long[] Values, int Width, float MaxLabel, bool SawZero, bool SawMinusOne)
{
    public long TotalRows => Rows.Sum();
}

/// <summary>
/// The work of one Partition task: parses the lines a byte range owns (<see cref="RangePlan"/>) and appends each row,
/// as a sparse spill record (label, count, indices, values), to the piece of the output <see cref="RowAssignment"/>
/// gives it. Pieces hold rows in file order, so concatenating the pieces of an output in range order gives its rows in
/// file order, whatever the range size.
/// </summary>
/// <remarks>
/// Rows stay sparse here even for dense partitions: with <c>features: 0</c> no range knows the final width, and a
/// sparse record is valid under any width, so partitions need one pass over the text (the assembly densifies). The cost
/// is 8 bytes per non-zero instead of 4 per feature in the pieces. Memory: the reader's 1 MiB line buffer (it grows
/// only for a longer line, up to 256 MiB), piece buffers totalling about 32 MiB, and one row. Disk: the pieces, at
/// most 8 bytes per non-zero plus 8 per row of this range's text.
/// </remarks>
public static class RangePartitioner
{
    private const long PieceBudgetBytes = 32L << 20;

    /// <param name="input">The file from <see cref="ByteRange.ReadFrom"/> on; read only as far as the range needs.</param>
    /// <param name="features">dataset.features when set: a row with a larger index is an error naming the fix.</param>
    /// <param name="pieceDirectory">Receives <c>&lt;output&gt;.piece</c> for every output, empty ones included.</param>
    /// <param name="maxClasses">Multi-class labels (<see cref="LabelMapping.Classes"/>): model.classes when set, else
    /// <see cref="ClassLabels.DefaultMaxClasses"/>.</param>
    public static RangeSummary Run(Stream input, RangeTask task, RowAssignment assignment, int? features, LabelMapping labels, string pieceDirectory, int? maxClasses = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        Partition.RequireLittleEndian();
        Directory.CreateDirectory(pieceDirectory);
        int outputs = assignment.Validation + 1;
        string source = task.Start == 0 ? task.Key : $"{task.Key} from byte {task.Start}";
        int bufferBytes = (int)Math.Clamp(PieceBudgetBytes / outputs, 16 << 10, 1 << 20);
        var budget = new BufferBudget();
        var pieces = new SpillFile[outputs];
        try
        {
            for (int o = 0; o < outputs; o++)
            {
                pieces[o] = new SpillFile(Path.Combine(pieceDirectory, o + ".piece"), bufferBytes, keepOpen: outputs <= 128, budget);
            }

            var summary = Distribute(input, task, source, assignment, features, labels, maxClasses, pieces);
            foreach (var piece in pieces)
            {
                piece.Close();
            }

            return summary;
        }
        finally
        {
            foreach (var piece in pieces)
            {
                piece?.Dispose();
            }
        }
    }

    private static RangeSummary Distribute(Stream input, RangeTask task, string source, RowAssignment assignment, int? features, LabelMapping labels, int? maxClasses, SpillFile[] pieces)
    {
        ulong fileId = RowAssignment.FileId(task.Key);
        long streamBase = task.Start == 0 ? 0 : task.Start - 1;
        using var reader = new RangeRows(input, source, task.Format, task.CsvHeader && task.Start == 0);
        if (task.Start > 0)
        {
            reader.SkipPartialLine();
        }

        var binary = new BinaryLabels(source);
        var row = new DatasetRow();
        Span<byte> head = stackalloc byte[8];
        int width = -1;
        float maxLabel = float.NegativeInfinity;
        while (reader.Read(row))
        {
            long offset = streamBase + reader.LineOffset;
            if (offset >= task.End)
            {
                break; // the first line of the next range
            }

            if (task.Format == DatasetFormat.Csv && row.Count == 0)
            {
                throw new DatasetFormatException(source, reader.LineNumber, "the row has a label but no feature columns.");
            }

            int rowWidth = task.Format == DatasetFormat.Csv ? row.Count : row.Count > 0 ? row.Indices[row.Count - 1] + 1 : 0;
            if (features is { } limit && rowWidth > limit)
            {
                string what = task.Format == DatasetFormat.Csv ? $"the row has {row.Count} feature columns, more than" : $"feature index {rowWidth} exceeds";
                throw new DatasetFormatException(
                    source, reader.LineNumber, $"{what} dataset.features = {limit}: set dataset.features to {rowWidth} or more.");
            }

            width = Math.Max(width, rowWidth);
            float label = labels switch
            {
                LabelMapping.Binary => binary.Map(row.Label, reader.LineNumber),
                LabelMapping.Classes => ClassLabels.Check(row.Label, maxClasses ?? ClassLabels.DefaultMaxClasses, maxClasses is not null, source, reader.LineNumber),
                _ => row.Label,
            };
            maxLabel = Math.Max(maxLabel, label);
            SpillFile piece = pieces[assignment.Assign(fileId, offset)];
            BinaryPrimitives.WriteSingleLittleEndian(head, label);
            BinaryPrimitives.WriteInt32LittleEndian(head[4..], row.Count);
            piece.Append(head);
            piece.Append(MemoryMarshal.AsBytes(row.Indices.AsSpan(0, row.Count)));
            piece.Append(MemoryMarshal.AsBytes(row.Values.AsSpan(0, row.Count)));
            piece.AddRow(row.Count);
        }

        return new RangeSummary(
            pieces.Select(p => p.Rows).ToArray(), pieces.Select(p => p.Values).ToArray(), width, maxLabel, binary.SawZero, binary.SawMinusOne);
    }

    /// <summary>The LIBSVM or CSV reader over the range, with the line offsets both expose.</summary>
    private sealed class RangeRows : IDisposable
    {
        private readonly LibSvmReader? _libsvm;
        private readonly CsvReader? _csv;

        public RangeRows(Stream input, string source, DatasetFormat format, bool csvHeader)
        {
            if (format == DatasetFormat.Csv)
            {
                _csv = new CsvReader(input, source, csvHeader);
            }
            else
            {
                _libsvm = new LibSvmReader(input, source);
            }
        }

        public long LineOffset => _libsvm?.LineOffset ?? _csv!.LineOffset;

        public long LineNumber => _libsvm?.LineNumber ?? _csv!.LineNumber;

        public void SkipPartialLine()
        {
            _libsvm?.SkipPartialLine();
            _csv?.SkipPartialLine();
        }

        public bool Read(DatasetRow row) => _libsvm?.Read(row) ?? _csv!.Read(row);

        public void Dispose()
        {
            _libsvm?.Dispose();
            _csv?.Dispose();
        }
    }
}
