using System.Security.Cryptography;
using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary>Whether a local file and a stored dataset are the same bytes, and a short content digest for naming a
/// different file's own key (an import never replaces a different dataset).</summary>
internal static class DatasetIdentity
{
    /// <summary>Sizes first (no read when they differ), then both streams compared block by block.</summary>
    public static async Task<bool> SameBytesAsync(IObjectStore store, string key, string localPath, CancellationToken ct)
    {
        var length = new FileInfo(localPath).Length;
        var stored = (await store.ListAsync(key, ct).ConfigureAwait(false)).FirstOrDefault(o => o.Key == key);
        if (stored is null || stored.Size != length) return false;
        await using var remote = await store.OpenReadAsync(key, ct).ConfigureAwait(false);
        await using var local = File.OpenRead(localPath);
        var a = new byte[1 << 20];
        var b = new byte[1 << 20];
        while (true)
        {
            var n = await local.ReadAtLeastAsync(a, a.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            var m = await remote.ReadAtLeastAsync(b, n == 0 ? 1 : n, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (n != m || !a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, m))) return false;
            if (n == 0) return true;
        }
    }

    /// <summary>The first 12 hex digits of the file's SHA-256.</summary>
    public static async Task<string> ShortDigestAsync(string localPath, CancellationToken ct)
    {
        await using var file = File.OpenRead(localPath);
        var hash = await SHA256.HashDataAsync(file, ct).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash)[..12];
    }
}
