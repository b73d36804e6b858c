namespace StepML.Core.Data;

// Accounts for the buffers the partitioner allocates by design, so tests can bound them.
internal sealed class BufferBudget
{
    private long _current;

    public long Peak { get; private set; }

    public void Allocate(long bytes)
    {
        _current += bytes;
        Peak = Math.Max(Peak, _current);
    }

    public void Release(long bytes) => _current -= bytes;

    // Records a transient total (e.g. a reader's buffer that grew) against the peak.
    public void Observe(long bytes) => Peak = Math.Max(Peak, _current + bytes);
}
