using StepML.Core.Tensors;
using StepML.Storage;
using StepML.Storage.Channels;

namespace StepML.Functions;

/// <summary>Reads and writes tensor objects, checking their element count against what the run expects.</summary>
internal static class TensorIo
{
    public static async Task<float[]> ReadAsync(IObjectStore store, string key, long expectedElements) =>
        Decode(await store.GetAsync(key).ConfigureAwait(false), key, expectedElements);

    public static async Task<float[]> ReadAsync(IChannel channel, string key, long expectedElements) =>
        Decode(await channel.GetAsync(key).ConfigureAwait(false), key, expectedElements);

    private static float[] Decode(byte[] bytes, string key, long expectedElements)
    {
        var values = TensorCodec.Decode(bytes, key, out var header);
        if (header.ElementCount != expectedElements)
            throw new TensorFormatException(key, $"holds {header.ElementCount} values; this run's tensors have {expectedElements}");
        return values;
    }

    /// <summary>Reads one shard (a run of whole blocks) of a tensor with a single ranged read, verifying the blocks' checksums.</summary>
    public static Task ReadShardAsync(IObjectStore store, string key, ShardLayout layout, int shard, float[] destination) =>
        ReadShardAsync(store.GetRangeAsync, key, layout, shard, destination);

    /// <summary>Reads one shard of a statistic from the run's channel, as above.</summary>
    public static Task ReadShardAsync(IChannel channel, string key, ShardLayout layout, int shard, float[] destination) =>
        ReadShardAsync(channel.GetRangeAsync, key, layout, shard, destination);

    private static async Task ReadShardAsync(Func<string, long, int, CancellationToken, Task<byte[]>> getRange, string key, ShardLayout layout, int shard, float[] destination)
    {
        var (first, count) = layout.Blocks(shard);
        var (offset, length) = TensorCodec.BlockByteRange(layout.Elements, layout.BlockElements, first, count);
        var bytes = await getRange(key, offset, length, CancellationToken.None).ConfigureAwait(false);
        TensorCodec.DecodeBlocks(bytes, key, layout.Elements, layout.BlockElements, first, count, destination);
    }

    public static Task WriteAsync(IObjectStore store, string key, ReadOnlySpan<float> values, long round, int blockElements, PutOptions? options = null)
    {
        var bytes = TensorCodec.Encode(values, [values.Length], round, blockElements);
        return store.PutAsync(key, bytes, options);
    }

    /// <summary>Writes a statistic or merged shard to the run's channel.</summary>
    public static Task WriteAsync(IChannel channel, string key, ReadOnlySpan<float> values, long round, int blockElements) =>
        channel.PutAsync(key, TensorCodec.Encode(values, [values.Length], round, blockElements));
}
