using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Algorithms;

/// <summary>
/// Deterministic mini-batch schedules. A batch size of 0 (or ≥ the partition) is the whole partition in storage
/// order; otherwise epoch e visits the rows in a permutation seeded by (seed, partition, e), so a retried worker
/// sees exactly the batches of the first attempt.
/// </summary>
public static class MiniBatches
{
    public static bool IsFullBatch(int batchSize, int rows) => batchSize <= 0 || batchSize >= rows;

    public static int BatchesPerEpoch(int batchSize, int rows) =>
        IsFullBatch(batchSize, rows) ? 1 : (rows + batchSize - 1) / batchSize;

    /// <summary>Fisher–Yates permutation of [0, rows) from a seeded generator.</summary>
    public static int[] Permutation(int rows, ulong seed, int partition, long epoch)
    {
        var rng = new Xoshiro256(Mix(seed, (ulong)partition, (ulong)epoch));
        var order = new int[rows];
        for (var i = 0; i < rows; i++) order[i] = i;
        for (var i = rows - 1; i > 0; i--)
        {
            var j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The batch that global step <paramref name="step"/> of a partition uses.</summary>
    /// <remarks>The batch carries a seed of its own (for augmentation), distinct for every (seed, partition, step).</remarks>
    public static RowSelection Batch(Partition data, int batchSize, ulong seed, int partition, long step, ref int[]? order, ref long orderEpoch)
    {
        // Salted so the batch's seed is not the permutation's; | 1 keeps it non-zero (0 means no augmentation).
        var batchSeed = Mix(seed ^ 0x5DEECE66DUL, (ulong)partition, (ulong)step) | 1;
        if (IsFullBatch(batchSize, data.Rows)) return RowSelection.All(data) with { Seed = batchSeed };
        var perEpoch = BatchesPerEpoch(batchSize, data.Rows);
        var epoch = step / perEpoch;
        var index = (int)(step % perEpoch);
        if (order is null || orderEpoch != epoch)
        {
            order = Permutation(data.Rows, seed, partition, epoch);
            orderEpoch = epoch;
        }
        var start = index * batchSize;
        return new RowSelection(start, Math.Min(batchSize, data.Rows - start), order) { Seed = batchSeed };
    }

    private static ulong Mix(ulong a, ulong b, ulong c)
    {
        var h = a * 0x9E3779B97F4A7C15UL ^ (b + 0x632BE59BD9B4E019UL) * 0xBF58476D1CE4E5B9UL ^ (c + 0x2545F4914F6CDD1DUL) * 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}
