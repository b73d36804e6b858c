namespace StepML.Core.Tensors;

/// <summary>
/// Splits a model of <see cref="Elements"/> float elements into <see cref="Shards"/> shards whose
/// boundaries fall on tensor block boundaries, so a merger can fetch its shard of every worker's
/// statistic as one byte range (<see cref="TensorCodec.BlockByteRange"/>) and verify its checksums.
/// </summary>
/// <remarks>
/// Shard s owns blocks [s·B/S, (s+1)·B/S) where B is <see cref="BlockCount"/>. When the model is
/// tiny (B &lt; S) some shards own no block and have an empty element range.
/// </remarks>
public readonly record struct ShardLayout(long Elements, int Shards, int BlockElements, int BlockCount)
{
    public static ShardLayout For(long elements, int shards)
    {
        if (shards < 1)
        {
            throw new ArgumentException($"shards must be at least 1 (was {shards}).", nameof(shards));
        }

        if (shards > elements)
        {
            throw new ArgumentException(
                $"shards ({shards}) must not exceed the model's element count ({elements}): use at most {elements} shards.",
                nameof(shards));
        }

        long perShard = (elements + shards - 1) / shards;
        int blockElements = (int)Math.Min(TensorCodec.MaxBlockElements, perShard);
        long blockCount = (elements + blockElements - 1) / blockElements;
        if (blockCount > int.MaxValue)
        {
            throw new ArgumentException($"a model of {elements} elements needs more than {int.MaxValue} blocks.", nameof(elements));
        }

        return new ShardLayout(elements, shards, blockElements, (int)blockCount);
    }

    public (int FirstBlock, int BlockCount) Blocks(int shard)
    {
        if ((uint)shard >= (uint)Shards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"shard must be in [0, {Shards}).");
        }

        int first = (int)((long)shard * BlockCount / Shards);
        int end = (int)((long)(shard + 1) * BlockCount / Shards);
        return (first, end - first);
    }

    public (long Start, long Length) ElementRange(int shard)
    {
        var (first, count) = Blocks(shard);
        long start = Math.Min((long)first * BlockElements, Elements);
        long end = Math.Min((long)(first + count) * BlockElements, Elements);
        return (start, end - start);
    }
}
