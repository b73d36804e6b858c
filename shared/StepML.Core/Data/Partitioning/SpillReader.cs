using System.Buffers.Binary;

namespace StepML.Core.Data;

// Reads spill records back: label, then the row's index and value bytes (dense rows have no indices). The records
// may come from a local spill file or from a chain of pieces read from the store.
internal sealed class SpillReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _name;
    private readonly bool _sparse;
    private readonly int _denseBytes;
    private readonly AssemblyBuffers _buffers;
    private byte[] _buffer;
    private int _start;
    private int _end;

    public SpillReader(Stream stream, string name, bool sparse, int features, AssemblyBuffers buffers)
    {
        _stream = stream;
        _name = name;
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
            throw new InvalidDataException($"{_name}: spill file ends inside a record.");
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
                return _end == 0 ? false : throw new InvalidDataException($"{_name}: spill file ends inside a record.");
            }

            _end += read;
        }

        return true;
    }

    public void Dispose() => _stream.Dispose();
}

