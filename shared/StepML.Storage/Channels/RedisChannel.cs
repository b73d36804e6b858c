using System.Collections.Concurrent;
using System.Net.Sockets;
using StackExchange.Redis;
using StepML.Core.Jobs;

namespace StepML.Storage.Channels;

/// <summary>
/// Redis (ElastiCache Serverless in the cloud, <c>redis-server</c> locally) as the channel: one string per tensor, written
/// with SET … EX (every key expires after <see cref="TimeToLive"/>, so a crashed run leaves nothing behind for long),
/// a merger's shard read with one GETRANGE. Connection and timeout failures become <see cref="StoreTransientException"/>.
/// </summary>
public sealed partial class RedisChannel : IChannel
{
    // One multiplexer per endpoint for the process (a Lambda container): it is thread-safe and holds the connection.
    // A failed connect is not cached, so the state machine's retry connects afresh.
    private static readonly ConcurrentDictionary<string, Lazy<Task<ConnectionMultiplexer>>> s_connections = new(StringComparer.Ordinal);

    private readonly ChannelEndpoint _endpoint;

    public RedisChannel(ChannelEndpoint endpoint, TimeSpan timeToLive)
    {
        if (endpoint.Kind != ChannelKinds.Redis) throw new ArgumentException($"not a redis endpoint: {endpoint}", nameof(endpoint));
        if (timeToLive <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "the time to live must be positive");
        _endpoint = endpoint;
        TimeToLive = timeToLive;
    }

    public TimeSpan TimeToLive { get; }

    public string Name => $"redis {_endpoint}";

    public bool DeletesRounds => true;

    public async Task PutAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var db = await DatabaseAsync().ConfigureAwait(false);
        await TranslateAsync("write", key, () => db.StringSetAsync(key, tensor, TimeToLive)).ConfigureAwait(false);
    }

    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var db = await DatabaseAsync().ConfigureAwait(false);
        var value = await TranslateAsync("read", key, () => db.StringGetAsync(key)).ConfigureAwait(false);
        return value.IsNull ? throw new ObjectNotFoundException(Name, key) : (byte[])value!;
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var db = await DatabaseAsync().ConfigureAwait(false);
        byte[] bytes = [];
        if (length > 0)
            bytes = (byte[])(await TranslateAsync("read", key, () => db.StringGetRangeAsync(key, offset, offset + length - 1)).ConfigureAwait(false))! ?? [];
        if (bytes.Length == length && length > 0) return bytes;
        // GETRANGE answers a missing key and a short value alike (fewer bytes): STRLEN tells them apart.
        var size = await TranslateAsync("read", key, () => db.StringLengthAsync(key)).ConfigureAwait(false);
        if (size == 0) throw new ObjectNotFoundException(Name, key);
        if (offset + length > size) throw new ObjectRangeException(Name, key, offset, length, size);
        return bytes;
    }

    public async Task DeleteRoundAsync(string runId, long round, int partitions, int shards, CancellationToken cancellationToken = default)
    {
        var keys = ChannelKeys.Round(runId, round, partitions, shards).Select(k => (RedisKey)k).ToArray();
        var db = await DatabaseAsync().ConfigureAwait(false);
        await TranslateAsync("delete", $"{RunLayout.Root(runId)}/rounds/{round}", () => db.KeyDeleteAsync(keys)).ConfigureAwait(false);
    }

    private async Task<IDatabase> DatabaseAsync()
    {
        var name = _endpoint.ToString();
        var lazy = s_connections.GetOrAdd(name, _ => new Lazy<Task<ConnectionMultiplexer>>(ConnectAsync));
        try
        {
            return (await lazy.Value.ConfigureAwait(false)).GetDatabase();
        }
        catch (Exception e) when (e is RedisConnectionException or SocketException or TimeoutException)
        {
            s_connections.TryRemove(new KeyValuePair<string, Lazy<Task<ConnectionMultiplexer>>>(name, lazy));
            throw new StoreTransientException($"the redis channel at {_endpoint} is unreachable ({e.Message}); check communication.endpoint and that the server runs", e);
        }
    }

    private Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = new ConfigurationOptions
        {
            Ssl = _endpoint.Tls,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = 5000,
            // A 10 M-parameter statistic is 40 MB: allow for it on a busy network.
            SyncTimeout = 60_000,
            AsyncTimeout = 60_000,
        };
        options.EndPoints.Add(_endpoint.Host, _endpoint.Port);
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    private async Task<T> TranslateAsync<T>(string operation, string key, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or SocketException)
        {
            throw new StoreTransientException($"{operation} '{key}' on the redis channel at {_endpoint} failed and may succeed on retry: {e.Message}", e);
        }
    }
}
