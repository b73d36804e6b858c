using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StepML.Storage.Ledger;

/// <summary>
/// The ledger of a local folder store: each version of a run's record is its own file,
/// <c>runs/&lt;runId&gt;/&lt;version&gt;.json</c>, created only if it does not exist yet (written to a temporary file,
/// then linked into place without replacing, which the file system does atomically). The current record is the
/// highest version; two writers of the same next version cannot both succeed. Claimed event keys are
/// <c>once/&lt;sha256&gt;.json</c>.
/// </summary>
public sealed class FolderRunLedger : IRunLedger
{
    private readonly string _root;
    private readonly TimeProvider _time;

    public FolderRunLedger(string root, TimeProvider? time = null)
    {
        _root = Path.GetFullPath(root);
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(_root);
    }

    public string Uri => "file://" + _root;

    private string RunFolder(string runId) => Path.Combine(_root, "runs", ObjectKey.ValidateRunId(runId));

    public async Task<RunOwner> ClaimAsync(string runId, string owner, string? process, CancellationToken cancellationToken = default)
    {
        var record = new RunOwner(runId, owner, RunStatus.Running, 1, _time.GetUtcNow(), process);
        if (await TryCreateAsync(VersionPath(runId, 1), Serialize(record), cancellationToken).ConfigureAwait(false)) return record;
        var current = await ReadAsync(runId, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException($"ledger {Uri}: run '{runId}' version 1 exists but cannot be read");
        return current.Owner == owner ? current : throw new RunOwnedException(runId, current);
    }

    public async Task<RunOwner?> ReadAsync(string runId, CancellationToken cancellationToken = default)
    {
        var folder = RunFolder(runId);
        if (!Directory.Exists(folder)) return null;
        long latest = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*.json"))
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > latest)
                latest = v;
        if (latest == 0) return null;
        var path = VersionPath(runId, latest);
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, LedgerJson.Default.RunOwner) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new LedgerCorruptException($"ledger record {path} is damaged ({e.Message}); delete it to fall back to version {latest - 1}", e);
        }
    }

    public async Task<RunOwner> ReplaceAsync(RunOwner expected, string owner, string status, string? process, CancellationToken cancellationToken = default)
    {
        var record = new RunOwner(expected.RunId, owner, status, expected.Version + 1, _time.GetUtcNow(), process);
        if (await TryCreateAsync(VersionPath(expected.RunId, record.Version), Serialize(record), cancellationToken).ConfigureAwait(false)) return record;
        var current = await ReadAsync(expected.RunId, cancellationToken).ConfigureAwait(false);
        throw new RunOwnedException(expected.RunId, current!);
    }

    public async Task<string?> ClaimOnceAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        var path = Path.Combine(_root, "once", hash + ".json");
        var claim = new OnceClaim(key, owner, _time.GetUtcNow());
        if (await TryCreateAsync(path, JsonSerializer.SerializeToUtf8Bytes(claim, LedgerJson.Default.OnceClaim), cancellationToken).ConfigureAwait(false))
            return null;
        var existing = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), LedgerJson.Default.OnceClaim);
        return existing?.Owner == owner ? null : existing?.Owner ?? "(unreadable claim)";
    }

    private string VersionPath(string runId, long version) =>
        Path.Combine(RunFolder(runId), version.ToString(CultureInfo.InvariantCulture) + ".json");

    private static byte[] Serialize(RunOwner record) => JsonSerializer.SerializeToUtf8Bytes(record, LedgerJson.Default.RunOwner);

    /// <summary>Writes the bytes to a temporary file, then links it to <paramref name="path"/> without replacing
    /// (<see cref="AtomicFiles.LinkNew"/>: fails atomically when the name exists). False when the file already existed.</summary>
    private static async Task<bool> TryCreateAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        if (File.Exists(path)) return false;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            return AtomicFiles.LinkNew(temp, path);
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

/// <summary>Puts a written file under a new name, failing when the name exists: POSIX link(2) is atomic for that, while
/// .NET's File.Move(overwrite: false) on Unix checks, then renames (two concurrent movers can both win: the contract
/// test of concurrent replaces caught it). Windows' MoveFileEx without REPLACE_EXISTING is atomic already.</summary>
internal static partial class AtomicFiles
{
    private const int EEXIST = 17;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);

    public static bool LinkNew(string temp, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            File.Move(temp, path, overwrite: false);
            return true;
        }
        if (Link(temp, path) == 0) return true;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return false;
        throw new IOException($"cannot create {path}: link(2) failed with errno {errno}");
    }
}

/// <summary>A ledger record cannot be read. Nothing is guessed: the message names the record.</summary>
public sealed class LedgerCorruptException(string message, Exception inner) : Exception(message, inner);

internal sealed record OnceClaim(string Key, string Owner, DateTimeOffset Time);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RunOwner))]
[System.Text.Json.Serialization.JsonSerializable(typeof(OnceClaim))]
internal sealed partial class LedgerJson : System.Text.Json.Serialization.JsonSerializerContext;
