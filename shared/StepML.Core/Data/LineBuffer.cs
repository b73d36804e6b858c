using System.Buffers;
using System.Text;

namespace StepML.Core.Data;

// Splits a stream into lines inside one large pooled buffer, so parsers see byte spans and no
// string is made per line. A line longer than the buffer grows it.
internal sealed class LineBuffer : IDisposable
{
    internal const int DefaultSize = 1 << 20;

    // A longer "line" means the input is not line-oriented text; stop before memory runs out.
    internal const int MaxLineBytes = 256 << 20;

    private readonly Stream _input;
    private readonly string _source;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private readonly DatasetFormat? _format;
    private bool _sniffed;

    // format: what the file should hold (checked on its first bytes by TextSniffer); null checks only that it is text.
    public LineBuffer(Stream input, string source, int size = DefaultSize, int maxLineBytes = MaxLineBytes, DatasetFormat? format = null)
    {
        _format = format;
        ArgumentNullException.ThrowIfNull(input);
        _input = input;
        _source = source;
        _maxLineBytes = maxLineBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(size);
    }

    // 1-based number of the line last returned.
    public long LineNumber { get; private set; }

    // Byte offset (from the start of the stream) of the line last returned.
    public long LineOffset { get; private set; }

    // Byte offset of _start in the stream.
    private long _position;

    // Largest buffer held so far, in bytes.
    public int BufferBytes => _buffer.Length;

    // Next line without its '\n' or "\r\n"; false at the end of the stream.
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        if (!_sniffed)
        {
            // The first fill holds the file's head: refuse compressed, binary or mislabelled files before parsing.
            _sniffed = true;
            Fill();
            _start = TextSniffer.Check(_buffer.AsSpan(0, _end), _source, _format, _eof);
        }

        int searchFrom = _start;
        while (true)
        {
            int newline = _buffer.AsSpan(searchFrom, _end - searchFrom).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineEnd = searchFrom + newline;
                line = TrimCarriageReturn(_buffer.AsSpan(_start, lineEnd - _start));
                LineOffset = _position;
                _position += lineEnd + 1 - _start;
                _start = lineEnd + 1;
                LineNumber++;
                return true;
            }

            if (_eof)
            {
                if (_end > _start)
                {
                    line = TrimCarriageReturn(_buffer.AsSpan(_start, _end - _start));
                    LineOffset = _position;
                    _position += _end - _start;
                    _start = _end;
                    LineNumber++;
                    return true;
                }

                line = default;
                return false;
            }

            searchFrom = Fill();
        }
    }

    // Moves the partial line to the front (growing the buffer when it is full), reads more, and
    // returns where the newline search resumes.
    private int Fill()
    {
        int pending = _end - _start;
        if (pending == _buffer.Length)
        {
            if (pending >= _maxLineBytes)
            {
                throw new DatasetFormatException(
                    _source, LineNumber + 1, $"a line longer than {_maxLineBytes} bytes: the input is not a LIBSVM or CSV text file, or its line breaks are missing.");
            }

            byte[] larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }

        _start = 0;
        _end = pending;
        while (_end < _buffer.Length)
        {
            int read = _input.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
                break;
            }

            _end += read;
        }

        return pending;
    }

    private static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    // The token at start as text for an error message, cut at 40 characters.
    public static string Excerpt(ReadOnlySpan<byte> line, int start)
    {
        int end = start;
        while (end < line.Length && line[end] != (byte)' ' && line[end] != (byte)'\t' && line[end] != (byte)',' && end - start < 40)
        {
            end++;
        }

        return end == start ? "end of line" : "'" + Encoding.UTF8.GetString(line[start..end]) + "'";
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        _input.Dispose();
    }
}
