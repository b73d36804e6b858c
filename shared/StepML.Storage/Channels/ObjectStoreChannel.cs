namespace StepML.Storage.Channels;

/// <summary>The run's object store as the channel (S3 in the cloud, the local folder locally): today's behaviour.
/// Statistics are written with the <c>stepml:kind=statistic</c> tag that the bucket's lifecycle rule expires.
/// Registers (asynchronous training) exist on the folder store only (<see cref="FolderRegister"/>): StepML's S3 store does
/// not use S3's conditional writes, which s3rver ignores on PUT, so they could not be tested.</summary>
public sealed class ObjectStoreChannel(IObjectStore store) : IChannel
{
    private readonly FolderRegister? _registers = store is FileObjectStore folder ? new FolderRegister(folder) : null;

    public string Name => $"s3 ({store.Uri})";

    public bool DeletesRounds => false;

    public Task PutAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken = default) =>
        store.PutAsync(key, tensor, PutOptions.Statistic, cancellationToken);

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default) => store.GetAsync(key, cancellationToken);

    public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default) =>
        store.GetRangeAsync(key, offset, length, cancellationToken);

    public async Task DeleteRoundAsync(string runId, long round, int partitions, int shards, CancellationToken cancellationToken = default)
    {
        foreach (var key in ChannelKeys.Round(runId, round, partitions, shards))
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public bool SupportsRegisters => _registers is not null;

    public Task<ChannelRegister?> ReadRegisterAsync(string key, CancellationToken cancellationToken = default) =>
        (_registers ?? throw new AtomicUpdatesNotSupportedException(Name)).ReadAsync(key, cancellationToken);

    public Task<bool> TryWriteRegisterAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken = default) =>
        (_registers ?? throw new AtomicUpdatesNotSupportedException(Name)).TryWriteAsync(key, expectedVersion, value, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => store.DeleteAsync(key, cancellationToken);
}
