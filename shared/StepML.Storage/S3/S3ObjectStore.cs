using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace StepML.Storage.S3;

/// <summary>
/// <see cref="IObjectStore"/> on Amazon S3 (or an S3-compatible server). Credentials and region come from
/// the SDK's standard chain. SDK errors are translated here and keep the SDK exception as the inner one:
/// a missing key is <see cref="ObjectNotFoundException"/>; throttling, 5xx answers and network failures are
/// <see cref="StoreTransientException"/> (the state machine retries that name).
/// </summary>
public sealed class S3ObjectStore : IObjectStore
{
    // One client per endpoint for the whole process: clients hold connection pools and credential caches.
    private static readonly ConcurrentDictionary<string, IAmazonS3> s_clients = new(StringComparer.Ordinal);

    private readonly IAmazonS3 _client;
    private readonly bool _compatibleServer;

    /// <summary>Opens the store with the process-wide client for the location's endpoint.</summary>
    public S3ObjectStore(S3StoreLocation location)
        : this(s_clients.GetOrAdd(location.Endpoint?.OriginalString ?? "", _ => new AmazonS3Client(CreateConfig(location.Endpoint))), location)
    {
    }

    /// <summary>Uses a caller-made client (tests; custom credentials). For an endpoint, make it with
    /// <see cref="CreateConfig"/>.</summary>
    public S3ObjectStore(IAmazonS3 client, S3StoreLocation location)
    {
        _client = client;
        Location = location;
        _compatibleServer = location.Endpoint is not null;
    }

    public S3StoreLocation Location { get; }

    /// <summary>Keys per listing request (S3's maximum is 1000); smaller only to test pagination.</summary>
    internal int PageSize { get; init; } = 1000;

    public string Uri => Location.ToString();

    /// <summary>
    /// The client configuration. With an endpoint (an S3-compatible server such as s3rver or MinIO):
    /// path-style addressing, and checksums only where the API requires them. SDK v4's defaults send
    /// uploads as <c>aws-chunked</c> bodies with trailing CRC checksums, and servers that do not implement
    /// that encoding store the chunk framing as part of the object; see also <c>UseChunkEncoding = false</c>
    /// on every put.
    /// </summary>
    public static AmazonS3Config CreateConfig(Uri? endpoint)
    {
        var config = new AmazonS3Config();
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.OriginalString;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = System.Environment.GetEnvironmentVariable("AWS_REGION")
                ?? System.Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
                ?? "us-east-1";
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        return config;
    }

    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        return await TranslateAsync("get", key, async () =>
        {
            using var response = await _client.GetObjectAsync(Location.Bucket, Location.FullKey(key), cancellationToken).ConfigureAwait(false);
            return await ReadAllAsync(response, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ObjectKey.Validate(key);
        if (length == 0)
        {
            // S3 has no empty range: check existence and bounds with a HEAD.
            var size = await SizeAsync(key, cancellationToken).ConfigureAwait(false);
            if (offset > size) throw new ObjectRangeException(Uri, key, offset, length, size);
            return [];
        }
        return await TranslateAsync("get range of", key, async () =>
        {
            GetObjectResponse response;
            try
            {
                response = await _client.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = Location.Bucket,
                    Key = Location.FullKey(key),
                    ByteRange = new ByteRange(offset, offset + length - 1),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The range starts at or past the end.
                throw new ObjectRangeException(Uri, key, offset, length, await SizeAsync(key, cancellationToken).ConfigureAwait(false));
            }
            using (response)
            {
                // S3 answers a range that runs past the end with the bytes that exist: a short read is an error here.
                var buffer = new byte[length];
                var stream = response.ResponseStream;
                var done = 0;
                int n;
                while (done < length && (n = await stream.ReadAsync(buffer.AsMemory(done), cancellationToken).ConfigureAwait(false)) > 0)
                    done += n;
                if (done < length)
                    throw new ObjectRangeException(Uri, key, offset, length, TotalSize(response.ContentRange) ?? offset + done);
                return buffer;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var response = await TranslateAsync("open", key,
            () => _client.GetObjectAsync(Location.Bucket, Location.FullKey(key), cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ResponseStream(response);
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var body = MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await using (body.ConfigureAwait(false))
            await PutStreamAsync(key, body, options, cancellationToken).ConfigureAwait(false);
    }

    public async Task PutAsync(string key, Stream data, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        if (data.CanSeek)
        {
            await PutStreamAsync(key, data, options, cancellationToken).ConfigureAwait(false);
            return;
        }
        // A single PUT needs the length up front: spool a forward-only stream to a temporary file first.
        var spool = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (spool.ConfigureAwait(false))
        {
            await data.CopyToAsync(spool, 1 << 20, cancellationToken).ConfigureAwait(false);
            spool.Position = 0;
            await PutStreamAsync(key, spool, options, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task PutStreamAsync(string key, Stream body, PutOptions? options, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = Location.Bucket,
            Key = Location.FullKey(key),
            InputStream = body,
            AutoCloseStream = false,
            // Upload from where the caller's stream stands, like FileObjectStore's CopyToAsync.
            AutoResetStreamPosition = false,
        };
        if (_compatibleServer)
            request.UseChunkEncoding = false;
        if (options?.Tags is { Count: > 0 } tags)
            request.TagSet = tags.Select(t => new Tag { Key = t.Key, Value = t.Value }).ToList();
        return TranslateAsync("put", key, () => _client.PutObjectAsync(request, cancellationToken), cancellationToken);
    }

    public async Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (prefix.Length > 0) ObjectKey.Validate(prefix.TrimEnd('/'), "prefix");
        var storePrefix = Location.Prefix.Length == 0 ? "" : Location.Prefix + "/";
        var result = new List<ObjectInfo>();
        string? continuation = null;
        do
        {
            var request = new ListObjectsV2Request
            {
                BucketName = Location.Bucket,
                Prefix = storePrefix + prefix,
                ContinuationToken = continuation,
                MaxKeys = PageSize,
            };
            var page = await TranslateAsync("list", prefix, () => _client.ListObjectsV2Async(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var item in page.S3Objects ?? [])
            {
                // Zero-byte "folder" markers made by the S3 console are not objects of the store.
                if (item.Key.EndsWith('/')) continue;
                result.Add(new ObjectInfo(item.Key[storePrefix.Length..], item.Size ?? 0));
            }
            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        return TranslateAsync("delete", key, () => _client.DeleteObjectAsync(Location.Bucket, Location.FullKey(key), cancellationToken), cancellationToken);
    }

    /// <remarks>A one-key listing rather than a HEAD: S3 answers a HEAD of a missing key with 403, not 404,
    /// unless the caller may list the bucket, and the stack grants listing only under the prefixes a function
    /// reads. A listing under the key itself is allowed by exactly that grant.</remarks>
    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var fullKey = Location.FullKey(key);
        var page = await TranslateAsync("check", key, () => _client.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = Location.Bucket,
            Prefix = fullKey,
            // The key itself sorts before every longer key that starts with it.
            MaxKeys = 1,
        }, cancellationToken), cancellationToken).ConfigureAwait(false);
        return page.S3Objects is { Count: > 0 } objects && objects[0].Key == fullKey;
    }

    public Task<ObjectVersion> VersionAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        return TranslateAsync("read the version of", key, async () =>
        {
            var metadata = await _client.GetObjectMetadataAsync(Location.Bucket, Location.FullKey(key), cancellationToken).ConfigureAwait(false);
            // The ETag alone names the content of a single-part upload; with the size it also separates multipart
            // uploads whose part hashes happened to agree.
            return new ObjectVersion(key, metadata.ContentLength, "etag:" + metadata.ETag.Trim('"'));
        }, cancellationToken);
    }

    private Task<long> SizeAsync(string key, CancellationToken cancellationToken) =>
        TranslateAsync("size", key, async () =>
        {
            var metadata = await _client.GetObjectMetadataAsync(Location.Bucket, Location.FullKey(key), cancellationToken).ConfigureAwait(false);
            return metadata.ContentLength;
        }, cancellationToken);

    private static async Task<byte[]> ReadAllAsync(GetObjectResponse response, CancellationToken cancellationToken)
    {
        var length = response.ContentLength;
        if (length > Array.MaxLength)
            throw new InvalidOperationException($"object '{response.Key}' has {length} bytes, too many for one array: use OpenReadAsync");
        var buffer = new byte[length];
        var done = 0;
        int n;
        while (done < buffer.Length && (n = await response.ResponseStream.ReadAsync(buffer.AsMemory(done), cancellationToken).ConfigureAwait(false)) > 0)
            done += n;
        if (done < buffer.Length)
            throw new IOException($"object '{response.Key}' ended after {done} of {buffer.Length} bytes (connection dropped?)");
        return buffer;
    }

    /// <summary>The object size from a <c>Content-Range: bytes first-last/total</c> header.</summary>
    private static long? TotalSize(string? contentRange)
    {
        var slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), out var total) ? total : null;
    }

    private Task TranslateAsync(string operation, string key, Func<Task> call, CancellationToken cancellationToken) =>
        TranslateAsync(operation, key, async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> TranslateAsync<T>(string operation, string key, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is "NoSuchKey" or "NotFound")
        {
            throw new ObjectNotFoundException(Uri, key, e);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            throw new InvalidOperationException($"bucket '{Location.Bucket}' of store {Uri} does not exist: create it or fix the store URI", e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new UnauthorizedAccessException(
                $"{operation} '{key}' in {Uri} was refused (403 {e.ErrorCode}): the caller's role needs the S3 action on this key " +
                "(a missing key also answers 403 to a caller without s3:ListBucket)", e);
        }
        catch (Exception e) when (IsTransient(e, cancellationToken))
        {
            throw new StoreTransientException($"{operation} '{key}' in {Uri} failed and may succeed on retry: {e.Message}", e);
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        AmazonServiceException s when (int)s.StatusCode >= 500 || s.StatusCode == HttpStatusCode.TooManyRequests => true,
        AmazonServiceException s when s.ErrorCode is "SlowDown" or "Throttling" or "ThrottlingException" or "RequestTimeout" => true,
        HttpRequestException or IOException or SocketException => true,
        // An HttpClient timeout surfaces as a cancellation nobody asked for.
        OperationCanceledException when !cancellationToken.IsCancellationRequested => true,
        AmazonClientException { InnerException: { } inner } => IsTransient(inner, cancellationToken),
        _ => false,
    };

    /// <summary>The object's body; disposing it releases the HTTP response.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : ReadOnlyStream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override long Length => response.ContentLength;
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
