using StepML.Storage;

namespace StepML.Functions;

/// <summary>The objects <c>keys</c> read one after the other as one stream, each opened only when the previous one
/// ends: assembling an output reads its pieces in range order without holding more than one open.</summary>
internal sealed class PieceStream(IObjectStore store, IReadOnlyList<string> keys) : Stream
{
    private int _next;
    private Stream? _current;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (_current is null)
            {
                if (_next == keys.Count) return 0;
                _current = store.OpenReadAsync(keys[_next++]).GetAwaiter().GetResult();
            }
            var n = _current.Read(buffer);
            if (n > 0 || buffer.IsEmpty) return n;
            _current.Dispose();
            _current = null;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _current?.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
