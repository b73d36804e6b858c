using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Tests.Algorithms;

public class MiniBatchesTests
{
    private static Partition Rows(int rows) => Partition.CreateDense(1, new float[rows], new float[rows]);

    [Fact]
    public void Permutation_SameArguments_Deterministic()
    {
        var a = MiniBatches.Permutation(1000, 7, 3, 5);
        var b = MiniBatches.Permutation(1000, 7, 3, 5);

        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(997)]
    [InlineData(4096)]
    public void Permutation_AnyLength_IsAPermutation(int rows)
    {
        var order = MiniBatches.Permutation(rows, 11, 0, 0);

        Assert.Equal(Enumerable.Range(0, rows), order.Order());
    }

    [Fact]
    public void Permutation_DifferentSeedPartitionOrEpoch_DifferentOrder()
    {
        var baseline = MiniBatches.Permutation(500, 7, 3, 5);

        Assert.NotEqual(baseline, MiniBatches.Permutation(500, 8, 3, 5));
        Assert.NotEqual(baseline, MiniBatches.Permutation(500, 7, 4, 5));
        Assert.NotEqual(baseline, MiniBatches.Permutation(500, 7, 3, 6));
        Assert.NotEqual(Enumerable.Range(0, 500), baseline);
    }

    [Theory]
    [InlineData(103, 10)]
    [InlineData(100, 10)]
    [InlineData(257, 256)]
    [InlineData(50, 1)]
    public void Batch_OneEpoch_CoversEveryRowExactlyOnce(int rows, int batchSize)
    {
        // Arrange
        var data = Rows(rows);
        var perEpoch = MiniBatches.BatchesPerEpoch(batchSize, rows);
        int[]? order = null;
        long orderEpoch = -1;

        for (var epoch = 0; epoch < 3; epoch++)
        {
            // Act
            var seen = new List<int>();
            for (var b = 0; b < perEpoch; b++)
            {
                var batch = MiniBatches.Batch(data, batchSize, 99, 2, (long)epoch * perEpoch + b, ref order, ref orderEpoch);
                Assert.InRange(batch.Count, 1, batchSize);
                for (var i = 0; i < batch.Count; i++) seen.Add(batch.RowAt(i));
            }

            // Assert
            Assert.Equal(epoch, orderEpoch);
            Assert.Equal(Enumerable.Range(0, rows), seen.Order());
        }
        Assert.Equal((rows + batchSize - 1) / batchSize, perEpoch);
    }

    [Fact]
    public void Batch_RandomAccessStep_EqualsSequentialWalk()
    {
        // A retried worker computes its batch from the step alone; it must match the one a sequential walk reaches.
        var data = Rows(103);
        int[]? walkOrder = null;
        long walkEpoch = -1;
        RowSelection sequential = default;
        for (long step = 0; step <= 25; step++)
            sequential = MiniBatches.Batch(data, 10, 5, 1, step, ref walkOrder, ref walkEpoch);

        int[]? freshOrder = null;
        long freshEpoch = -1;
        var direct = MiniBatches.Batch(data, 10, 5, 1, 25, ref freshOrder, ref freshEpoch);

        Assert.Equal(sequential.Start, direct.Start);
        Assert.Equal(sequential.Count, direct.Count);
        Assert.Equal(sequential.Order, direct.Order);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(40)]
    [InlineData(41)]
    public void Batch_FullBatchSizes_WholePartitionInStorageOrder(int batchSize)
    {
        var data = Rows(40);
        int[]? order = null;
        long epoch = -1;

        var batch = MiniBatches.Batch(data, batchSize, 1, 0, 17, ref order, ref epoch);

        Assert.True(MiniBatches.IsFullBatch(batchSize, 40));
        Assert.Equal(1, MiniBatches.BatchesPerEpoch(batchSize, 40));
        Assert.Equal((0, 40), (batch.Start, batch.Count));
        Assert.Null(batch.Order);
        Assert.NotEqual(0UL, batch.Seed); // the step's augmentation seed
        Assert.Null(order);
    }
}
