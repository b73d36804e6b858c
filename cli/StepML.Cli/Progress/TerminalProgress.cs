using System.Diagnostics;

namespace StepML.Cli.Progress;

/// <summary>
/// A progress line for long work (generating, partitioning): on a terminal it rewrites one line in place (bytes,
/// percent when the total is known, rate) at most five times a second; when output is redirected or --quiet it
/// prints nothing, so logs and pipes stay line-oriented and only the final summary line appears.
/// </summary>
internal sealed class TerminalProgress : IDisposable
{
    private readonly string _label;
    private readonly long? _total;
    private readonly bool _enabled;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawMs = -1000;
    private long _done;

    public TerminalProgress(string label, long? total, bool quiet)
        : this(label, total, enabled: !quiet && !Console.IsOutputRedirected)
    {
    }

    internal TerminalProgress(string label, long? total, bool enabled, TextWriter? output = null)
    {
        (_label, _total, _enabled) = (label, total, enabled);
        Output = output ?? Console.Out;
    }

    private TextWriter Output { get; }

    /// <summary>Adds <paramref name="bytes"/> processed; thread-safe.</summary>
    public void Advance(long bytes)
    {
        var done = Interlocked.Add(ref _done, bytes);
        if (!_enabled) return;
        var now = _clock.ElapsedMilliseconds;
        var last = Interlocked.Read(ref _lastDrawMs);
        if (now - last < 200 || Interlocked.CompareExchange(ref _lastDrawMs, now, last) != last) return;
        lock (_clock) Output.Write("\r" + Line(done, now / 1000.0) + "   ");
    }

    internal string Line(long done, double seconds)
    {
        var rate = seconds > 0 ? done / 1e6 / seconds : 0;
        var percent = _total is > 0 ? $" {100.0 * done / _total.Value,5:F1}%" : "";
        return $"{_label}: {done / 1e6:F1} MB{(_total is > 0 ? $" of {_total.Value / 1e6:F1}" : "")}{percent}  {rate:F0} MB/s";
    }

    public void Dispose()
    {
        // Clear the in-place line so the command's own summary line starts clean.
        if (_enabled && Interlocked.Read(ref _lastDrawMs) >= 0) lock (_clock) Output.Write("\r" + new string(' ', Math.Min(120, Line(_done, 1).Length + 8)) + "\r");
    }
}

/// <summary>Counts the bytes that pass through a stream into a <see cref="TerminalProgress"/>.</summary>
internal sealed class ProgressStream(Stream inner, TerminalProgress progress) : Stream
{
    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void SetLength(long value) => inner.SetLength(value);

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        progress.Advance(n);
        return n;
    }

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        progress.Advance(n);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        progress.Advance(count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        progress.Advance(buffer.Length);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
