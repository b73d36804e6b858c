using System.Buffers.Binary;
using StepML.Core.Tensors;

namespace StepML.Core.Data;

// The read and write buffers every assembly pass shares, allocated once per run.
internal sealed class AssemblyBuffers
{
    public AssemblyBuffers(BufferBudget budget)
    {
        Budget = budget;
        Read = new byte[PartAssembler.BufferBytes];
        Write = new byte[PartAssembler.BufferBytes];
        budget.Allocate(2 * PartAssembler.BufferBytes);
    }

    public BufferBudget Budget { get; }

    public byte[] Read { get; set; }

    public byte[] Write { get; }
}


// Buffered sequential writer that checksums the bytes as they leave the buffer.
internal sealed class SectionWriter
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
