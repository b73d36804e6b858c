using System.Collections.Concurrent;
using System.IO.Hashing;

namespace StepML.Storage;

/// <summary>
/// Content versions of local files: an XxHash128 digest of the bytes, cached per process by path, size and last
/// write time, so a multi-gigabyte dataset is hashed once per change rather than once per run. A rewrite that keeps
/// size and timestamp (to the tick) would be missed by the cache; the folder store writes by rename, which always
/// moves the timestamp.
/// </summary>
internal static class ContentDigests
{
    private static readonly ConcurrentDictionary<string, (long Size, DateTime Written, string Version)> s_cache = new(StringComparer.Ordinal);

    public static async Task<ObjectVersion> VersionAsync(string key, string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"no file {path}", path);
        var (size, written) = (info.Length, info.LastWriteTimeUtc);
        if (s_cache.TryGetValue(path, out var cached) && cached.Size == size && cached.Written == written)
            return new ObjectVersion(key, size, cached.Version);

        var hash = new XxHash128();
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20, FileOptions.SequentialScan))
            await hash.AppendAsync(stream, cancellationToken).ConfigureAwait(false);
        var version = "xxh128:" + Convert.ToHexStringLower(hash.GetCurrentHash());
        s_cache[path] = (size, written, version);
        return new ObjectVersion(key, size, version);
    }
}
