using System.Globalization;
using StepML.Storage.Ledger;

namespace StepML.Storage.Channels;

/// <summary>
/// A compare-and-swap register in the folder store: version v of register <c>K</c> is the file <c>K/v</c> (twelve
/// digits, so names sort by version), holding the value. Writing version v+1 links a fully written temporary file to
/// <c>K/(v+1)</c> with link(2), which fails atomically when the name exists (<c>AtomicFiles.LinkNew</c>, as the
/// folder ledger does): of two writers that both read version v, exactly one creates v+1. The current version is the
/// highest name. Old versions are kept (a few dozen bytes each, removed with the run's rounds by gc): a removed name could
/// be created again by a writer still holding that old version, which would win a swap it has lost (the contention test
/// caught exactly that when versions two behind were removed).
/// </summary>
internal sealed class FolderRegister(FileObjectStore store)
{
    private const int Digits = 12;

    public async Task<ChannelRegister?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var folder = store.PathOf(key);
        var latest = Latest(folder);
        if (latest is null) return null;
        var value = await File.ReadAllTextAsync(Path.Combine(folder, Name(latest.Value)), cancellationToken).ConfigureAwait(false);
        return new ChannelRegister(latest.Value, value);
    }

    public async Task<bool> TryWriteAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var folder = store.PathOf(key);
        Directory.CreateDirectory(folder);
        var next = expectedVersion + 1;
        var path = Path.Combine(folder, Name(next));
        if (File.Exists(path)) return false;
        var temp = Path.Combine(folder, "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            await File.WriteAllTextAsync(temp, value, cancellationToken).ConfigureAwait(false);
            if (!AtomicFiles.LinkNew(temp, path)) return false;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return true;
    }

    private static string Name(long version) => version.ToString("D" + Digits, CultureInfo.InvariantCulture);

    private static long? Latest(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        long? latest = null;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (name.Length == Digits && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && (latest is null || v > latest))
                latest = v;
        }
        return latest;
    }
}
