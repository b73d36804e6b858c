using StepML.Storage;

namespace StepML.Functions;

/// <summary>The objects <c>keys</c> read one after the other as one stream, each opened only when the previous one
/// ends: assembling an output reads its pieces in range order without holding more than one open.</summary>
internal sealed class PieceStream(IObjectStore store, IReadOnlyList<string> keys) : ReadOnlyStream
{
    private int _next;
    private Stream? _current;

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
}
