using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>Reads and writes tensor objects, checking their element count against what the run expects.</summary>
internal static class TensorIo
{
    public static async Task<float[]> ReadAsync(IObjectStore store, string key, long expectedElements)
    {
        var bytes = await store.GetAsync(key).ConfigureAwait(false);
        var values = TensorCodec.Decode(bytes, key, out var header);
        if (header.ElementCount != expectedElements)
            throw new TensorFormatException(key, $"holds {header.ElementCount} values; this run's tensors have {expectedElements}");
        return values;
    }

    /// <summary>Reads one shard (a run of whole blocks) of a tensor with a single ranged read, verifying the blocks' checksums.</summary>
    public static async Task ReadShardAsync(IObjectStore store, string key, ShardLayout layout, int shard, float[] destination)
    {
        var (first, count) = layout.Blocks(shard);
        var (offset, length) = TensorCodec.BlockByteRange(layout.Elements, layout.BlockElements, first, count);
        var bytes = await store.GetRangeAsync(key, offset, length).ConfigureAwait(false);
        TensorCodec.DecodeBlocks(bytes, key, layout.Elements, layout.BlockElements, first, count, destination);
    }

    public static Task WriteAsync(IObjectStore store, string key, ReadOnlySpan<float> values, long round, int blockElements, PutOptions? options = null)
    {
        var bytes = TensorCodec.Encode(values, [values.Length], round, blockElements);
        return store.PutAsync(key, bytes, options);
    }
}
