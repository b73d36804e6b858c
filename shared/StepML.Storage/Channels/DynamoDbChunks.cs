using StepML.Core.Tensors;

namespace StepML.Storage.Channels;

/// <summary>
/// How a tensor is cut into DynamoDB items (each at most 400 KB). The header is one chunk and every tensor block
/// (<see cref="ShardLayout"/>'s unit) is one chunk, so a merger's byte range, which is a run of whole blocks, maps to
/// exactly the chunks of its shard and to no neighbour's. A block larger than <see cref="MaxChunkBytes"/> (a statistic
/// with many values per parameter) is cut further; bytes that are not a tensor are cut every <see cref="MaxChunkBytes"/>.
/// </summary>
public static class DynamoDbChunks
{
    /// <summary>Payload per item, leaving room under the 400 KB item limit for the key and attribute names.</summary>
    public const int MaxChunkBytes = 384 * 1024;

    public static List<(long Offset, int Length)> Plan(ReadOnlySpan<byte> bytes, int maxChunkBytes = MaxChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunkBytes, 1);
        var chunks = new List<(long, int)>();
        long blockBytes = maxChunkBytes;
        long start = 0;
        if (TryReadHeader(bytes, out var header))
        {
            chunks.Add((0, TensorCodec.HeaderSize));
            blockBytes = 4L * header.BlockElements + 4;
            start = TensorCodec.HeaderSize;
        }
        for (var block = start; block < bytes.Length; block += blockBytes)
        {
            var blockEnd = Math.Min(block + blockBytes, bytes.Length);
            for (var piece = block; piece < blockEnd; piece += maxChunkBytes)
                chunks.Add((piece, (int)Math.Min(maxChunkBytes, blockEnd - piece)));
        }
        return chunks;
    }

    private static bool TryReadHeader(ReadOnlySpan<byte> bytes, out TensorHeader header)
    {
        header = null!;
        if (bytes.Length < TensorCodec.HeaderSize) return false;
        try
        {
            header = TensorCodec.ReadHeader(bytes, "statistic");
            return TensorCodec.EncodedSize(header.ElementCount, header.BlockElements) == bytes.Length;
        }
        catch (TensorFormatException)
        {
            return false;
        }
    }
}
