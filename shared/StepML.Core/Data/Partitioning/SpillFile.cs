namespace StepML.Core.Data;

// Append-only spill of row records through a fixed buffer.
internal sealed class SpillFile : IDisposable
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

