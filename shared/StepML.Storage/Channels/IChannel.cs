namespace StepML.Storage.Channels;

/// <summary>
/// The communication channel of a run (LambdaML §3.2): where workers write their statistics and mergers write merged
/// shards for Decide. Keys are the run's keys from <see cref="RunLayout"/> (<see cref="RunLayout.Statistic"/>,
/// <see cref="RunLayout.Merged"/>), so every channel holds the same objects under the same names; the model,
/// partitions and records stay in the object store. Implementations: <see cref="ObjectStoreChannel"/> (S3 or the
/// local folder), <see cref="RedisChannel"/>, <see cref="DynamoDbChannel"/>; <see cref="ChannelFactory"/> maps
/// <c>communication.channel</c> to them. Shared behaviour, checked by one contract test suite against each real server:
/// <list type="bullet">
/// <item>a missing key is <see cref="ObjectNotFoundException"/>; a range past the end is <see cref="ObjectRangeException"/>;</item>
/// <item>an unreachable or throttled server is <see cref="StoreTransientException"/> naming the channel and endpoint (the
/// state machine retries that name, then the run fails with it);</item>
/// <item>a write overwrites; writes of one key carry the same bytes on a retry, which is all the pipeline needs.</item>
/// </list>
/// </summary>
public interface IChannel
{
    /// <summary>The channel and where it is, for messages: <c>redis 127.0.0.1:6379</c>.</summary>
    string Name { get; }

    /// <summary>False for the object store, whose bucket lifecycle rule expires statistics and whose keys stay
    /// inspectable; true for Redis and DynamoDB, where Decide deletes a round once the next one no longer needs it
    /// (their keys also expire by TTL).</summary>
    bool DeletesRounds { get; }

    /// <summary>Writes a tensor (a statistic or a merged shard) under <paramref name="key"/>.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken = default);

    /// <summary>Reads the whole object.</summary>
    Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>: a merger's shard of a statistic.</summary>
    Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>Deletes the round's statistics of <paramref name="partitions"/> workers and its <paramref name="shards"/>
    /// merged shards. Missing keys are not an error.</summary>
    Task DeleteRoundAsync(string runId, long round, int partitions, int shards, CancellationToken cancellationToken = default);

    /// <summary>Whether <see cref="TryWriteRegisterAsync"/> is atomic on this channel (asynchronous training needs it).</summary>
    bool SupportsRegisters { get; }

    /// <summary>Reads a compare-and-swap register: its version (1 after the first write) and value; null when never written.</summary>
    Task<ChannelRegister?> ReadRegisterAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Sets the register to <paramref name="value"/> at version <paramref name="expectedVersion"/> + 1 if and only
    /// if its version is still <paramref name="expectedVersion"/> (0: never written), atomically: of concurrent writers
    /// with the same expected version exactly one succeeds. False when another write came first. Keys expire like the
    /// channel's other keys. Channels without <see cref="SupportsRegisters"/> throw <see cref="AtomicUpdatesNotSupportedException"/>.</summary>
    Task<bool> TryWriteRegisterAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken = default);

    /// <summary>Deletes a tensor written with <see cref="PutAsync"/> (asynchronous training's superseded model versions);
    /// a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}

/// <param name="Version">How many writes the register has had (1 after the first).</param>
public sealed record ChannelRegister(long Version, string Value);

/// <summary>The channel cannot update a value atomically (compare-and-swap), which asynchronous training needs.</summary>
public sealed class AtomicUpdatesNotSupportedException(string channel)
    : Exception($"communication.synchronization \"async\" needs an atomic read-modify-write on the channel, and {channel} has none here: " +
        "use communication.channel \"redis\" or \"dynamodb\", or the local folder store for \"s3\" (S3 conditional writes are not used: " +
        "s3rver, the S3 server the tests run, ignores If-None-Match on PUT, so they could not be tested)");

/// <summary>The channel is misconfigured in a way no retry cures (no endpoint, a missing table). Not retried.</summary>
public sealed class ChannelConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The keys a round puts into the channel: what <see cref="IChannel.DeleteRoundAsync"/> removes.</summary>
public static class ChannelKeys
{
    public static IEnumerable<string> Round(string runId, long round, int partitions, int shards) =>
        Enumerable.Range(0, partitions).Select(p => RunLayout.Statistic(runId, round, p))
            .Concat(Enumerable.Range(0, shards).Select(s => RunLayout.Merged(runId, round, s)));
}
