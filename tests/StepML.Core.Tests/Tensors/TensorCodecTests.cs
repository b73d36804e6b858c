using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Tensors;

namespace StepML.Core.Tests.Tensors;

public class TensorCodecTests
{
    private sealed record Case(float[] Data, int[] Shape, long Round, int BlockElements);

    // Shapes of rank 1..4 whose product is small; block sizes from 1 to past the length; lengths
    // deliberately not multiples of SIMD widths.
    private static readonly Gen<Case> s_cases =
        from rank in Gen.Choose(1, 4)
        from dims in Gen.ArrayOf(Gen.Choose(1, rank == 1 ? 3000 : 13), rank)
        from round in Gen.Choose(-5, int.MaxValue).Select(r => (long)r * 3)
        from block in Gen.OneOf(Gen.Choose(1, 40), Gen.Choose(41, 5000), Gen.Constant(TensorCodec.MaxBlockElements))
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(RandomFloats(dims.Aggregate(1, (a, b) => a * b), seed), dims, round, block);

    [Fact]
    public void EncodeDecode_RandomTensors_RoundTripBitExact()
    {
        Prop.ForAll(s_cases.ToArbitrary(), c =>
        {
            byte[] bytes = TensorCodec.Encode(c.Data, c.Shape, c.Round, c.BlockElements);
            float[] decoded = TensorCodec.Decode(bytes, "t", out TensorHeader header);
            var into = new float[c.Data.Length];
            TensorCodec.Decode(bytes, "t", into, out _);
            return bytes.Length == TensorCodec.EncodedSize(c.Data.Length, c.BlockElements)
                && header.Shape.SequenceEqual(c.Shape)
                && header.ElementCount == c.Data.Length
                && header.Round == c.Round
                && header.BlockElements == c.BlockElements
                && header.BlockCount == (c.Data.Length + c.BlockElements - 1) / c.BlockElements
                && BitsEqual(c.Data, decoded)
                && BitsEqual(c.Data, into);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Encode_SpecialValues_PreservedBitExact()
    {
        float[] data = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue];
        float[] decoded = TensorCodec.Decode(TensorCodec.Encode(data, [6], 0, 4), "t", out _);
        Assert.True(BitsEqual(data, decoded));
    }

    [Fact]
    public void Encode_Layout_MatchesSpecification()
    {
        float[] data = [1f, 2f, 3f, 4f, 5f];
        byte[] bytes = TensorCodec.Encode(data, [5], 9, 2);

        Assert.Equal("SMLT"u8.ToArray(), bytes[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(5L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(28)));
        Assert.Equal(9L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(36)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(44)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(48)));
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(0, 60)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(60)));
        // Blocks of 2, 2 and 1 floats, each followed by its CRC.
        Assert.Equal(64 + 12 + 12 + 8, bytes.Length);
        Assert.Equal(3f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(64 + 12)));
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(64 + 24, 4)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(64 + 28)));
    }

    [Fact]
    public void Decode_EverySingleBitFlipInSmallTensor_Detected()
    {
        byte[] clean = TensorCodec.Encode(RandomFloats(11, 3), [11], 4, 4);
        for (int bit = 0; bit < clean.Length * 8; bit++)
        {
            byte[] bytes = (byte[])clean.Clone();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.ThrowsAny<TensorFormatException>(() => TensorCodec.Decode(bytes, "stats/3.tensor", out _));
        }
    }

    [Fact]
    public void Decode_RandomBitFlip_ThrowsNamingSource()
    {
        var gen = from c in s_cases from pick in Gen.Choose(0, int.MaxValue) select (c, pick);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            byte[] bytes = TensorCodec.Encode(t.c.Data, t.c.Shape, t.c.Round, t.c.BlockElements);
            int bit = t.pick % (bytes.Length * 8);
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            var ex = Record.Exception(() => TensorCodec.Decode(bytes, "w7.tensor", out _));
            return ex is TensorFormatException && ex.Message.StartsWith("w7.tensor", StringComparison.Ordinal);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_PayloadBitFlip_ChecksumExceptionNamesBlock()
    {
        byte[] bytes = TensorCodec.Encode(RandomFloats(100, 1), [100], 0, 10);
        // Byte 64 + 3·44 + 5 lies inside block 3's payload.
        bytes[64 + (3 * 44) + 5] ^= 0x10;
        var ex = Assert.Throws<TensorChecksumException>(() => TensorCodec.Decode(bytes, "stats/0.tensor", out _));
        Assert.StartsWith("stats/0.tensor", ex.Message);
        Assert.Contains("block 3", ex.Message);
    }

    [Fact]
    public void Decode_AnyTruncation_Detected()
    {
        Prop.ForAll(s_cases.ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (c, pick) =>
        {
            byte[] bytes = TensorCodec.Encode(c.Data, c.Shape, c.Round, c.BlockElements);
            int length = pick % bytes.Length;
            var ex = Record.Exception(() => TensorCodec.Decode(bytes.AsSpan(0, length), "t", out _));
            return ex is TensorFormatException;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_EveryTruncationOfSmallTensor_Detected()
    {
        byte[] bytes = TensorCodec.Encode(RandomFloats(9, 2), [3, 3], 1, 4);
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.ThrowsAny<TensorFormatException>(() => TensorCodec.Decode(bytes.AsSpan(0, length), "t", out _));
        }
    }

    [Fact]
    public void Decode_TrailingBytes_Rejected()
    {
        byte[] bytes = TensorCodec.Encode(RandomFloats(9, 2), [9], 1, 4);
        var longer = new byte[bytes.Length + 4];
        bytes.CopyTo(longer, 0);
        var ex = Assert.Throws<TensorFormatException>(() => TensorCodec.Decode(longer, "m.tensor", out _));
        Assert.Contains("trailing", ex.Message);
    }

    [Fact]
    public void ReadHeader_WrongVersionWithValidCrc_RejectedWithVersionMessage()
    {
        byte[] bytes = TensorCodec.Encode([1f], [1], 0, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(60), Crc32C.Compute(bytes.AsSpan(0, 60)));
        var ex = Assert.Throws<TensorFormatException>(() => TensorCodec.ReadHeader(bytes, "m.tensor"));
        Assert.Contains("version 2", ex.Message);
    }

    [Fact]
    public void ReadHeader_ShapeProductMismatchWithValidCrc_Rejected()
    {
        byte[] bytes = TensorCodec.Encode([1f, 2f], [2], 0, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(60), Crc32C.Compute(bytes.AsSpan(0, 60)));
        var ex = Assert.Throws<TensorFormatException>(() => TensorCodec.ReadHeader(bytes, "m.tensor"));
        Assert.Contains("does not match the shape", ex.Message);
    }

    [Fact]
    public void Encode_ShapeDisagreesWithData_Throws()
    {
        Assert.Throws<ArgumentException>(() => TensorCodec.Encode([1f, 2f, 3f], [2, 2], 0));
        Assert.Throws<ArgumentException>(() => TensorCodec.Encode([1f], [1, 1, 1, 1, 1], 0));
    }

    [Fact]
    public void ShardLayout_RandomSizes_PartitionsElementsAndBlocksDecodeLikeFullDecode()
    {
        var gen = from n in Gen.OneOf(Gen.Choose(1, 200), Gen.Choose(201, 120_000))
                  from s in Gen.Choose(1, Math.Min(n, 40))
                  select (n, s);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var layout = ShardLayout.For(t.n, t.s);
            float[] data = RandomFloats(t.n, t.n);
            byte[] bytes = TensorCodec.Encode(data, [t.n], 1, layout.BlockElements);
            long next = 0;
            int nextBlock = 0;
            for (int shard = 0; shard < t.s; shard++)
            {
                var (start, length) = layout.ElementRange(shard);
                var (first, count) = layout.Blocks(shard);
                if (start != next || first != nextBlock)
                {
                    return false;
                }

                var (offset, byteLength) = TensorCodec.BlockByteRange(t.n, layout.BlockElements, first, count);
                var part = new float[length];
                TensorCodec.DecodeBlocks(bytes.AsSpan((int)offset, byteLength), "t", t.n, layout.BlockElements, first, count, part);
                if (!BitsEqual(data.AsSpan((int)start, (int)length), part))
                {
                    return false;
                }

                next = start + length;
                nextBlock = first + count;
            }

            return next == t.n && nextBlock == layout.BlockCount
                && layout.BlockElements <= TensorCodec.MaxBlockElements
                && layout.BlockElements == Math.Min(TensorCodec.MaxBlockElements, (t.n + t.s - 1) / t.s);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DecodeBlocks_StatisticWithPairsPerElement_UsesSameBlockIndices()
    {
        // A KMeans-like statistic keeps (sum, count) per model element: blockElements = 2·layout.BlockElements.
        const int k = 2;
        var layout = ShardLayout.For(50_001, 3);
        float[] stat = RandomFloats(k * 50_001, 5);
        byte[] bytes = TensorCodec.Encode(stat, [50_001, k], 3, k * layout.BlockElements);
        for (int shard = 0; shard < 3; shard++)
        {
            var (first, count) = layout.Blocks(shard);
            var (start, length) = layout.ElementRange(shard);
            var (offset, byteLength) = TensorCodec.BlockByteRange(stat.Length, k * layout.BlockElements, first, count);
            var part = new float[k * length];
            TensorCodec.DecodeBlocks(bytes.AsSpan((int)offset, byteLength), "t", stat.Length, k * layout.BlockElements, first, count, part);
            Assert.True(BitsEqual(stat.AsSpan((int)(k * start), (int)(k * length)), part));
        }
    }

    [Fact]
    public void DecodeBlocks_CorruptOrShortRange_Throws()
    {
        var layout = ShardLayout.For(1000, 4);
        byte[] bytes = TensorCodec.Encode(RandomFloats(1000, 9), [1000], 0, layout.BlockElements);
        var (first, count) = layout.Blocks(2);
        var (offset, length) = TensorCodec.BlockByteRange(1000, layout.BlockElements, first, count);
        var part = new float[layout.ElementRange(2).Length];

        Assert.Throws<TensorFormatException>(() =>
            TensorCodec.DecodeBlocks(bytes.AsSpan((int)offset, length - 1), "s", 1000, layout.BlockElements, first, count, part));

        bytes[offset + 17] ^= 1;
        var ex = Assert.Throws<TensorChecksumException>(() =>
            TensorCodec.DecodeBlocks(bytes.AsSpan((int)offset, length), "s", 1000, layout.BlockElements, first, count, part));
        Assert.Contains($"block {first}", ex.Message);
    }

    [Fact]
    public void ShardLayout_InvalidShardCounts_Throw()
    {
        Assert.Throws<ArgumentException>(() => ShardLayout.For(10, 0));
        Assert.Throws<ArgumentException>(() => ShardLayout.For(10, 11));
    }

    [Fact]
    public void ShardLayout_LargeModel_CapsBlockSize()
    {
        var layout = ShardLayout.For(1_000_000, 2);
        Assert.Equal(TensorCodec.MaxBlockElements, layout.BlockElements);
        Assert.Equal(62, layout.BlockCount);
        Assert.Equal((0, 31), layout.Blocks(0));
        Assert.Equal((31, 31), layout.Blocks(1));
    }

    private static float[] RandomFloats(int n, int seed)
    {
        var random = new Random(seed);
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9)));
        }

        return data;
    }

    private static bool BitsEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}
