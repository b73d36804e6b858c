using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class PartitionTests
{
    private static readonly Gen<Partition> s_partitions = Gen.OneOf(DenseGen(), SparseGen());

    [Fact]
    public void EncodeDecode_RandomPartitions_RoundTrip()
    {
        Prop.ForAll(s_partitions.ToArbitrary(), p =>
        {
            Partition back = Partition.Decode(p.Encode(), "p.part");
            return back.Rows == p.Rows && back.Features == p.Features && back.IsSparse == p.IsSparse
                && back.Labels.SequenceEqual(p.Labels)
                && Same(back.Dense, p.Dense) && Same(back.RowOffsets, p.RowOffsets)
                && Same(back.Indices, p.Indices) && Same(back.Values, p.Values);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_RandomByteCorruption_Detected()
    {
        var gen = from p in s_partitions from pick in Gen.Choose(0, int.MaxValue) from bit in Gen.Choose(0, 7) select (p, pick, bit);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            byte[] bytes = t.p.Encode();
            bytes[t.pick % bytes.Length] ^= (byte)(1 << t.bit);
            var ex = Record.Exception(() => Partition.Decode(bytes, "runs/r/partitions/3.part"));
            return ex is PartitionFormatException && ex.Message.StartsWith("runs/r/partitions/3.part: ", StringComparison.Ordinal);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_AnyTruncation_Detected()
    {
        byte[] bytes = Partition.CreateSparse(4, [1f, 0f], [0, 2, 3], [0, 3, 1], [1f, 2f, 3f]).Encode();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<PartitionFormatException>(() => Partition.Decode(bytes.AsSpan(0, length), "p"));
        }
    }

    [Fact]
    public void Decode_IndexOutOfRangeWithValidChecksums_Rejected()
    {
        // Rewrite an index to 9 (features = 4) and re-seal both checksums: structure checks must still catch it.
        byte[] bytes = Partition.CreateSparse(4, [1f], [0, 2], [0, 3], [1f, 2f]).Encode();
        int indicesAt = 64 + 4 + 8;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(indicesAt + 4), 9);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), StepML.Core.Tensors.Crc32C.Compute(bytes.AsSpan(64)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(60), StepML.Core.Tensors.Crc32C.Compute(bytes.AsSpan(0, 60)));

        var ex = Assert.Throws<PartitionFormatException>(() => Partition.Decode(bytes, "p"));
        Assert.Contains("column index 9", ex.Message);
    }

    [Fact]
    public void CreateSparse_Inconsistent_Throws()
    {
        Assert.Throws<ArgumentException>(() => Partition.CreateSparse(4, [1f], [0, 2], [2, 1], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => Partition.CreateSparse(4, [1f], [0, 1], [0, 1], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => Partition.CreateSparse(4, [1f, 2f], [0, 1], [0], [1f]));
        Assert.Throws<ArgumentException>(() => Partition.CreateDense(3, [1f], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => Partition.CreateDense(0, [], []));
    }

    [Fact]
    public void DenseRow_DenseAndSparse_ReturnsRowOrThrows()
    {
        var dense = Partition.CreateDense(2, [0f, 1f], [1f, 2f, 3f, 4f]);
        Assert.Equal([3f, 4f], dense.DenseRow(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => dense.DenseRow(2));
        var sparse = Partition.CreateSparse(2, [0f], [0, 1], [1], [5f]);
        Assert.Throws<InvalidOperationException>(() => sparse.DenseRow(0));
    }

    private static Gen<Partition> DenseGen() =>
        from rows in Gen.Choose(0, 30)
        from features in Gen.Choose(1, 17)
        from seed in Gen.Choose(0, int.MaxValue)
        select Partition.CreateDense(features, Floats(rows, seed), Floats(rows * features, seed + 1));

    private static Gen<Partition> SparseGen() =>
        from rows in Gen.Choose(0, 30)
        from features in Gen.Choose(1, 40)
        from seed in Gen.Choose(0, int.MaxValue)
        select RandomSparse(rows, features, seed);

    private static Partition RandomSparse(int rows, int features, int seed)
    {
        var random = new Random(seed);
        var offsets = new int[rows + 1];
        var indices = new List<int>();
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < features; j++)
            {
                if (random.NextDouble() < 0.3)
                {
                    indices.Add(j);
                }
            }

            offsets[r + 1] = indices.Count;
        }

        return Partition.CreateSparse(features, Floats(rows, seed), offsets, [.. indices], Floats(indices.Count, seed + 2));
    }

    private static float[] Floats(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
    }

    private static bool Same<T>(T[]? a, T[]? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);
}
