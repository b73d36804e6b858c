namespace StepML.Storage;

/// <summary>
/// A read-only stream over an object from an offset, fetched in ranged GETs of <c>chunkBytes</c> as it is read:
/// memory is one chunk whatever the object's size, and a reader that stops early (a range task that has finished
/// its last line) fetches nothing more.
/// </summary>
public sealed class StoreRangeStream(IObjectStore store, string key, long offset, long objectSize, int chunkBytes = 8 << 20) : ReadOnlyStream
{
    private byte[] _chunk = [];
    private int _at;
    private long _next = offset;

    public override int Read(Span<byte> buffer)
    {
        if (_at == _chunk.Length)
        {
            if (_next >= objectSize) return 0;
            var length = (int)Math.Min(chunkBytes, objectSize - _next);
            _chunk = store.GetRangeAsync(key, _next, length).GetAwaiter().GetResult();
            _next += length;
            _at = 0;
        }
        var n = Math.Min(buffer.Length, _chunk.Length - _at);
        _chunk.AsSpan(_at, n).CopyTo(buffer);
        _at += n;
        return n;
    }
}
