namespace StepML.Core.Data;

/// <summary>
/// Reads numeric CSV in the UCI Higgs layout: the label in the first column, then one column per
/// feature. Every column is emitted, zeros included (dense rows), and every row must have as many
/// columns as the first. Owns and disposes the stream.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly LineBuffer _lines;
    private readonly string _source;
    private bool _skipHeader;
    private int _columns = -1;
    private long _firstRowLine;

    public CsvReader(Stream input, string sourceName, bool hasHeader = false)
    {
        _lines = new LineBuffer(input, sourceName, format: DatasetFormat.Csv);
        _source = sourceName;
        _skipHeader = hasHeader;
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
            if (line.Trim((byte)' ').IsEmpty)
            {
                continue;
            }

            if (_skipHeader)
            {
                _skipHeader = false;
                continue;
            }

            ParseLine(line, row);
            return true;
        }

        return false;
    }

    private void ParseLine(ReadOnlySpan<byte> line, DatasetRow row)
    {
        int column = 0;
        int i = 0;
        while (true)
        {
            while (i < line.Length && line[i] == (byte)' ')
            {
                i++;
            }

            int end = FastFloatParser.Parse(line, i, out float value);
            int after = end;
            while (after >= 0 && after < line.Length && line[after] == (byte)' ')
            {
                after++;
            }

            if (end < 0 || (after < line.Length && line[after] != (byte)','))
            {
                string what = column == 0 ? "label (column 1)" : $"column {column + 1}";
                string hint = _lines.LineNumber == 1 && column == 0 && !_skipHeader
                    ? " If the first line is a header, set the CSV header option."
                    : " Write decimals like 0.5 or -1e-3 (nan and inf are not allowed).";
                bool empty = i == line.Length || line[i] == (byte)',';
                string reason = end == FastFloatParser.OutOfRange ? "is outside the float range (±3.4e38)" : "is not a number";
                throw Error(empty ? $"{what} is empty.{hint}" : $"{what} {LineBuffer.Excerpt(line, i)} {reason}.{hint}");
            }

            if (column == 0)
            {
                row.Clear(value);
            }
            else
            {
                row.Add(column - 1, value);
            }

            column++;
            if (after >= line.Length)
            {
                break;
            }

            i = after + 1;
        }

        if (_columns < 0)
        {
            _columns = column;
            _firstRowLine = _lines.LineNumber;
        }
        else if (column != _columns)
        {
            throw Error($"found {column} columns but line {_firstRowLine} has {_columns}: every row needs the label and the same number of features.");
        }
    }

    private DatasetFormatException Error(string message) => new(_source, _lines.LineNumber, message);

    public void Dispose() => _lines.Dispose();
}
