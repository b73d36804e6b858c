namespace StepML.Storage;

/// <summary>
/// The one storage contract every state of the pipeline uses: a flat key space of immutable-per-write
/// objects. Implementations: <see cref="FileObjectStore"/> (the embedded default) and S3. Keys are
/// validated with <see cref="ObjectKey.Validate"/> by every implementation.
/// </summary>
public interface IObjectStore
{
    /// <summary>The URI that reopens this store with <see cref="ObjectStores.Open"/>.</summary>
    string Uri { get; }

    /// <summary>Reads a whole object. Throws <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>. Throws
    /// <see cref="ObjectNotFoundException"/> when absent and <see cref="ObjectRangeException"/> when the
    /// object is shorter than the range (a truncated object is an error, never a short read).</summary>
    Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for streaming reads (large partitions and datasets).</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes (or overwrites) an object atomically: readers see the old or the new bytes, never a mix.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Writes an object from a stream (large partitions); same atomicity as the byte overload.</summary>
    Task PutAsync(string key, Stream data, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Keys under a prefix, in ordinal order.</summary>
    Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; deleting a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Whether an object exists.</summary>
    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The version of an object's content (DESIGN.md, "Runs and data"): equal versions mean equal bytes.
    /// S3: the ETag and the size; the folder store: an XxHash128 digest of the bytes. Throws
    /// <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<ObjectVersion> VersionAsync(string key, CancellationToken cancellationToken = default);
}

/// <param name="Version">Opaque and store-specific (<c>etag:…</c> or <c>xxh128:…</c>); compare for equality only.</param>
public sealed record ObjectVersion(string Key, long Size, string Version)
{
    public override string ToString() => $"{Key} ({Size} bytes, {Version})";
}

/// <param name="Tags">Object tags (S3 object tagging); the bucket lifecycle rule expires objects tagged
/// <c>stepml:kind=statistic</c>. Stores without tagging ignore them.</param>
public sealed record PutOptions(IReadOnlyDictionary<string, string>? Tags = null)
{
    public static readonly PutOptions Statistic = new(new Dictionary<string, string> { ["stepml:kind"] = "statistic" });
}

public sealed record ObjectInfo(string Key, long Size);

/// <summary>The key does not exist in the store.</summary>
public sealed class ObjectNotFoundException(string store, string key, Exception? inner = null)
    : Exception($"object '{key}' does not exist in {store}", inner)
{
    public string Key { get; } = key;
}

/// <summary>A ranged read went past the end of the object (usually a truncated write).</summary>
public sealed class ObjectRangeException(string store, string key, long offset, int length, long size)
    : Exception($"object '{key}' in {store} has {size} bytes; the range {offset}+{length} runs past its end (truncated object?)");

/// <summary>A store call failed for a reason that a retry may cure (throttling, a dropped connection).
/// The state machine retries this error name.</summary>
public sealed class StoreTransientException(string message, Exception inner) : Exception(message, inner);

/// <summary>The store has no room for a write (a full disk or quota). Nothing already stored is changed: the
/// partial object is removed. Free space, then resume the run.</summary>
public sealed class StoreFullException(string store, string key, Exception inner)
    : Exception($"the store {store} is full: writing '{key}' failed ({inner.Message}); objects already written are intact. Free space, then run again or resume", inner);

/// <summary>A key would reach outside the store's folder (through a symbolic link); nothing is read or written.</summary>
public sealed class StoreEscapeException(string store, string key, string resolved)
    : Exception($"key '{key}' in {store} leads through a symbolic link to '{resolved}', outside the store: the folder store never follows links out of its root; remove the link or move the data into the store")
{
    public string Key { get; } = key;
}
