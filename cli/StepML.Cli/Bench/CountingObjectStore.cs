using StepML.Storage;

namespace StepML.Cli.Bench;

/// <summary>The kinds of store request the benchmark counts; each is one S3 request in the cloud.</summary>
internal enum StoreRequestKind
{
    Get,
    RangedGet,
    Put,
    List,
    Exists,
    Delete,
    OpenRead,
    Version,
}

/// <param name="Function">The local function (Prepare, Worker, Merge, Decide, ...) whose handler made the call, or
/// "pipeline" for calls outside any handler (the CLI writing history.json).</param>
internal readonly record struct StoreRequest(StoreRequestKind Kind, string Key, string Function);

/// <summary>
/// Decorates a store and records every request in call order, tagged with the function that made it
/// (<see cref="CurrentFunction"/>, which flows with the handler's async context). <see cref="Count"/> and
/// <see cref="Slice"/> let the benchmark cut the log into rounds.
/// </summary>
internal sealed class CountingObjectStore(IObjectStore inner) : IObjectStore
{
    public const string OutsideHandlers = "pipeline";

    private static readonly AsyncLocal<string?> s_function = new();
    private readonly List<StoreRequest> _log = [];
    private readonly Lock _lock = new();

    /// <summary>Set by the invoker around each handler call; requests made inside carry this name.</summary>
    public static string? CurrentFunction
    {
        get => s_function.Value;
        set => s_function.Value = value;
    }

    public string Uri => inner.Uri;

    public int Count
    {
        get { lock (_lock) return _log.Count; }
    }

    /// <summary>Requests [<paramref name="from"/>, <paramref name="to"/>) of the log.</summary>
    public IReadOnlyList<StoreRequest> Slice(int from, int to)
    {
        lock (_lock) return _log.GetRange(from, to - from);
    }

    private void Record(StoreRequestKind kind, string key)
    {
        var request = new StoreRequest(kind, key, CurrentFunction ?? OutsideHandlers);
        lock (_lock) _log.Add(request);
    }

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Get, key);
        return inner.GetAsync(key, cancellationToken);
    }

    public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.RangedGet, key);
        return inner.GetRangeAsync(key, offset, length, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.OpenRead, key);
        return inner.OpenReadAsync(key, cancellationToken);
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Put, key);
        return inner.PutAsync(key, data, options, cancellationToken);
    }

    public Task PutAsync(string key, Stream data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Put, key);
        return inner.PutAsync(key, data, options, cancellationToken);
    }

    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.List, prefix);
        return inner.ListAsync(prefix, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Delete, key);
        return inner.DeleteAsync(key, cancellationToken);
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Exists, key);
        return inner.ExistsAsync(key, cancellationToken);
    }

    public Task<ObjectVersion> VersionAsync(string key, CancellationToken cancellationToken = default)
    {
        Record(StoreRequestKind.Version, key);
        return inner.VersionAsync(key, cancellationToken);
    }
}
