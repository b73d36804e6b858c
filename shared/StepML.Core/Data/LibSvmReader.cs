namespace StepML.Core.Data;

/// <summary>
/// Reads LIBSVM text ("label index:value index:value ...", 1-based ascending indices) straight
/// from bytes. Blank lines are skipped, '#' starts a comment, CRLF is accepted, and indices are
/// returned 0-based. Every error names the file and line. Owns and disposes the stream.
/// </summary>
public sealed class LibSvmReader : IDisposable
{
    private readonly LineBuffer _lines;
    private readonly string _source;

    public LibSvmReader(Stream input, string sourceName)
    {
        _lines = new LineBuffer(input, sourceName, format: DatasetFormat.LibSvm);
        _source = sourceName;
    }

    /// <summary>1-based line number of the row last returned by <see cref="Read"/>.</summary>
    public long LineNumber => _lines.LineNumber;

    internal int BufferBytes => _lines.BufferBytes;

    /// <summary>Byte offset, from the start of the stream, of the line of the row last returned.</summary>
    public long LineOffset => _lines.LineOffset;

    /// <summary>Consumes the stream up to and including its first line break, unparsed: a byte range that starts
    /// inside a line leaves that line to the range before it.</summary>
    internal void SkipPartialLine() => _lines.TryReadLine(out _);

    public bool Read(DatasetRow row)
    {
        while (_lines.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (ParseLine(line, row))
            {
                return true;
            }
        }

        return false;
    }

    private bool ParseLine(ReadOnlySpan<byte> line, DatasetRow row)
    {
        int i = SkipSpace(line, 0);
        if (i == line.Length || line[i] == (byte)'#')
        {
            return false;
        }

        int end = FastFloatParser.Parse(line, i, out float label);
        if (end < 0 || !IsTokenEnd(line, end))
        {
            throw Error($"bad label {LineBuffer.Excerpt(line, i)}: a line starts with a numeric label such as 1, -1, +1, 0 or 2.5.");
        }

        row.Clear(label);
        long previous = 0;
        i = end;
        while (true)
        {
            i = SkipSpace(line, i);
            if (i == line.Length || line[i] == (byte)'#')
            {
                return true;
            }

            int tokenStart = i;
            long index = 0;
            uint d;
            while (i < line.Length && (d = (uint)(line[i] - '0')) <= 9)
            {
                if (index <= int.MaxValue)
                {
                    index = (index * 10) + d;
                }

                i++;
            }

            if (i == tokenStart)
            {
                throw Error($"expected 'index:value' but found {LineBuffer.Excerpt(line, tokenStart)}: features are written as 3:0.5 with a positive integer index.");
            }

            if (i == line.Length || line[i] != (byte)':')
            {
                throw Error($"missing ':' in {LineBuffer.Excerpt(line, tokenStart)}: write each feature as index:value, e.g. {index}:1.");
            }

            if (index == 0)
            {
                throw Error("feature index 0: LIBSVM indices start at 1; add 1 to every index.");
            }

            if (index > int.MaxValue)
            {
                throw Error($"feature index {LineBuffer.Excerpt(line, tokenStart)} is larger than {int.MaxValue}.");
            }

            if (index <= previous)
            {
                throw Error($"feature index {index} follows {previous}: indices must be strictly ascending within a line; sort them and merge duplicates.");
            }

            i++;
            end = FastFloatParser.Parse(line, i, out float value);
            if (end < 0 || !IsTokenEnd(line, end))
            {
                string reason = end == FastFloatParser.OutOfRange ? "is outside the float range (±3.4e38)" : "is not a number";
                throw Error($"value {LineBuffer.Excerpt(line, i)} of feature {index} {reason}: write decimals like 0.5 or -1e-3 (nan and inf are not allowed).");
            }

            row.Add((int)(index - 1), value);
            previous = index;
            i = end;
        }
    }

    private static int SkipSpace(ReadOnlySpan<byte> line, int i)
    {
        while (i < line.Length && (line[i] == (byte)' ' || line[i] == (byte)'\t'))
        {
            i++;
        }

        return i;
    }

    private static bool IsTokenEnd(ReadOnlySpan<byte> line, int i) =>
        i == line.Length || line[i] == (byte)' ' || line[i] == (byte)'\t' || line[i] == (byte)'#';

    private DatasetFormatException Error(string message) => new(_source, _lines.LineNumber, message);

    public void Dispose() => _lines.Dispose();
}
