namespace StepML.Storage.Channels;

/// <summary>The run's object store as the channel (S3 in the cloud, the local folder locally): today's behaviour.
/// Statistics are written with the <c>stepml:kind=statistic</c> tag that the bucket's lifecycle rule expires.</summary>
public sealed class ObjectStoreChannel(IObjectStore store) : IChannel
{
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
}
