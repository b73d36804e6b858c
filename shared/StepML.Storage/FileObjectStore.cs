namespace StepML.Storage;

/// <summary>
/// The embedded default store: one folder, keys are relative paths. Writes go to a temporary file in
/// the same folder and are renamed into place, so a reader (or a crash) never sees a half-written object.
/// Every path is checked to stay inside the root with symbolic links resolved (<see cref="StoreEscapeException"/>);
/// listings skip links. A full disk is <see cref="StoreFullException"/>.
/// </summary>
public sealed class FileObjectStore : IObjectStore
{
    // errno values of a full disk and an exhausted quota (Linux).
    private const int NoSpace = 28;
    private const int QuotaExceeded = 122;

    private readonly string _root;
    private readonly string _realRoot;

    public FileObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
        if (File.Exists(_root))
            throw new IOException($"the store '{_root}' is a file, not a folder: give --store a folder (created if missing) or s3://BUCKET[/PREFIX]");
        Directory.CreateDirectory(_root);
        _realRoot = StorePaths.RealPath(_root);
    }

    public string Root => _root;

    public string Uri => "file://" + _root;

    internal string PathOf(string key)
    {
        var path = Path.Combine(_root, ObjectKey.Validate(key).Replace('/', Path.DirectorySeparatorChar));
        var real = StorePaths.RealPath(path);
        if (!StorePaths.IsInside(real, _realRoot)) throw new StoreEscapeException(Uri, key, real);
        return path;
    }

    private static bool IsFull(IOException e) => e.HResult is NoSpace or QuotaExceeded;

    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(Uri, key, e);
        }
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var path = PathOf(key);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            var size = RandomAccess.GetLength(handle);
            if (offset + length > size)
                throw new ObjectRangeException(Uri, key, offset, length, size);
            var buffer = new byte[length];
            var done = 0;
            while (done < length)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(done), offset + done, cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new ObjectRangeException(Uri, key, offset, length, offset + done);
                done += n;
            }
            return buffer;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(Uri, key, e);
        }
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(Uri, key, e);
        }
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var temp = TempPathFor(path);
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e) when (IsFull(e))
        {
            throw new StoreFullException(Uri, key, e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public async Task PutAsync(string key, Stream data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        var temp = TempPathFor(path);
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                await data.CopyToAsync(stream, 1 << 20, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e) when (IsFull(e))
        {
            throw new StoreFullException(Uri, key, e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static string TempPathFor(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path + "." + Guid.NewGuid().ToString("N") + ".tmp";
    }

    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (prefix.Length > 0) ObjectKey.Validate(prefix.TrimEnd('/'), "prefix");
        var result = new List<ObjectInfo>();
        if (Directory.Exists(_root))
        {
            // Links are skipped (neither listed nor descended into), so a listing never reaches outside the root.
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
            foreach (var file in Directory.EnumerateFiles(_root, "*", options))
            {
                if (file.EndsWith(".tmp", StringComparison.Ordinal)) continue;
                var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                    result.Add(new ObjectInfo(key, new FileInfo(file).Length));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return Task.FromResult<IReadOnlyList<ObjectInfo>>(result);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        if (File.Exists(path)) File.Delete(path);
        return Task.CompletedTask;
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathOf(key)));

    public async Task<ObjectVersion> VersionAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return await ContentDigests.VersionAsync(key, path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(Uri, key, e);
        }
    }
}
