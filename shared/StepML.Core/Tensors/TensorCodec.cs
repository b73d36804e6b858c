using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace StepML.Core.Tensors;

/// <summary>
/// Reads and writes the StepML tensor file: a 64-byte header and float32 blocks, each followed by
/// the CRC32C of its bytes, all little-endian.
/// </summary>
/// <remarks>
/// Header: [0,4) "SMLT"; [4,6) u16 version 1; [6,8) u16 dtype 1 (float32); [8,12) u32 rank 1..4;
/// [12,28) u32 dims[4], unused 0; [28,36) i64 element count; [36,44) i64 round;
/// [44,48) u32 block elements; [48,52) u32 block count; [52,60) zero; [60,64) CRC32C of [0,60).
/// Block b starts at 64 + b·(4·blockElements + 4) and holds blockElements floats (the last one the
/// remainder), then their CRC32C. Blocks let a merger fetch a run of whole blocks with one ranged
/// read and still verify it.
/// </remarks>
public static class TensorCodec
{
    public const int HeaderSize = 64;
    public const int MaxBlockElements = 16384;

    private const ushort Version = 1;
    private const ushort DtypeFloat32 = 1;
    private const uint Magic = 0x544C4D53; // "SMLT" read as little-endian u32

    // Largest block whose byte size (4·n + 4) still fits an int.
    private const int LargestBlockElements = (int.MaxValue - 4) / 4;

    public static long EncodedSize(long elementCount, int blockElements)
    {
        if (elementCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(elementCount), elementCount, "must not be negative.");
        }

        CheckBlockElements(blockElements);
        long blocks = BlockCountFor(elementCount, blockElements);
        return HeaderSize + (4 * elementCount) + (4 * blocks);
    }

    public static byte[] Encode(ReadOnlySpan<float> data, ReadOnlySpan<int> shape, long round, int blockElements = MaxBlockElements)
    {
        var bytes = new byte[EncodedSize(data.Length, blockElements)];
        Encode(data, shape, round, blockElements, bytes);
        return bytes;
    }

    public static void Encode(ReadOnlySpan<float> data, ReadOnlySpan<int> shape, long round, int blockElements, Span<byte> destination)
    {
        CheckBlockElements(blockElements);
        if (shape.Length is < 1 or > 4)
        {
            throw new ArgumentException($"shape must have 1 to 4 dimensions (had {shape.Length}).", nameof(shape));
        }

        long product = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape [{string.Join(", ", shape.ToArray())}] has a negative dimension.", nameof(shape));
            }

            product *= d;
        }

        if (product != data.Length)
        {
            throw new ArgumentException(
                $"shape [{string.Join(", ", shape.ToArray())}] holds {product} elements but the data has {data.Length}.", nameof(shape));
        }

        long size = EncodedSize(data.Length, blockElements);
        if (destination.Length != size)
        {
            throw new ArgumentException($"destination must be exactly {size} bytes (was {destination.Length}).", nameof(destination));
        }

        int blockCount = (int)BlockCountFor(data.Length, blockElements);
        Span<byte> header = destination[..HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], DtypeFloat32);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[(12 + (4 * i))..], (uint)shape[i]);
        }

        BinaryPrimitives.WriteInt64LittleEndian(header[28..], data.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[36..], round);
        BinaryPrimitives.WriteUInt32LittleEndian(header[44..], (uint)blockElements);
        BinaryPrimitives.WriteUInt32LittleEndian(header[48..], (uint)blockCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[60..], Crc32C.Compute(header[..60]));

        int offset = HeaderSize;
        for (int b = 0; b < blockCount; b++)
        {
            int start = b * blockElements;
            int n = Math.Min(blockElements, data.Length - start);
            Span<byte> payload = destination.Slice(offset, 4 * n);
            WriteFloats(data.Slice(start, n), payload);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(offset + (4 * n))..], Crc32C.Compute(payload));
            offset += (4 * n) + 4;
        }
    }

    public static TensorHeader ReadHeader(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < HeaderSize)
        {
            throw new TensorFormatException(source, $"truncated: {bytes.Length} bytes is shorter than the {HeaderSize}-byte tensor header.");
        }

        ReadOnlySpan<byte> header = bytes[..HeaderSize];
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            throw new TensorFormatException(source, "not a StepML tensor file (magic is not \"SMLT\").");
        }

        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[60..]);
        uint actualCrc = Crc32C.Compute(header[..60]);
        if (storedCrc != actualCrc)
        {
            throw new TensorChecksumException(source, $"header checksum mismatch (stored 0x{storedCrc:X8}, computed 0x{actualCrc:X8}): the file is corrupt.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
        {
            throw new TensorFormatException(source, $"unsupported tensor format version {version} (this build reads version {Version}).");
        }

        ushort dtype = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (dtype != DtypeFloat32)
        {
            throw new TensorFormatException(source, $"unsupported dtype {dtype} (only 1 = float32 is defined).");
        }

        uint rank = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (rank is < 1 or > 4)
        {
            throw new TensorFormatException(source, $"rank {rank} is outside 1..4.");
        }

        var shape = new int[rank];
        long product = 1;
        for (int i = 0; i < 4; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32LittleEndian(header[(12 + (4 * i))..]);
            if (i >= rank)
            {
                if (d != 0)
                {
                    throw new TensorFormatException(source, $"dimension {i} is {d} but rank is {rank} (unused dimensions must be 0).");
                }

                continue;
            }

            if (d > int.MaxValue)
            {
                throw new TensorFormatException(source, $"dimension {i} ({d}) is too large.");
            }

            shape[i] = (int)d;
            product = product * d;
            if (product > int.MaxValue)
            {
                throw new TensorFormatException(source, $"shape holds more than {int.MaxValue} elements.");
            }
        }

        long elementCount = BinaryPrimitives.ReadInt64LittleEndian(header[28..]);
        if (elementCount != product)
        {
            throw new TensorFormatException(source, $"element count {elementCount} does not match the shape's product {product}.");
        }

        long round = BinaryPrimitives.ReadInt64LittleEndian(header[36..]);
        uint blockElements = BinaryPrimitives.ReadUInt32LittleEndian(header[44..]);
        if (blockElements is < 1 or > LargestBlockElements)
        {
            throw new TensorFormatException(source, $"block size {blockElements} elements is outside 1..{LargestBlockElements}.");
        }

        uint blockCount = BinaryPrimitives.ReadUInt32LittleEndian(header[48..]);
        long expectedBlocks = BlockCountFor(elementCount, (int)blockElements);
        if (blockCount != expectedBlocks)
        {
            throw new TensorFormatException(source, $"block count {blockCount} does not match {expectedBlocks} blocks of {blockElements} for {elementCount} elements.");
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(header[52..]) != 0)
        {
            throw new TensorFormatException(source, "reserved header bytes 52..60 are not zero.");
        }

        return new TensorHeader(shape, elementCount, round, (int)blockElements, (int)blockCount);
    }

    public static float[] Decode(ReadOnlySpan<byte> bytes, string source, out TensorHeader header)
    {
        header = ReadHeader(bytes, source);
        var data = new float[header.ElementCount];
        DecodeBody(bytes, source, header, data);
        return data;
    }

    public static void Decode(ReadOnlySpan<byte> bytes, string source, Span<float> destination, out TensorHeader header)
    {
        header = ReadHeader(bytes, source);
        if (destination.Length != header.ElementCount)
        {
            throw new ArgumentException(
                $"{source}: destination holds {destination.Length} floats but the tensor has {header.ElementCount}.", nameof(destination));
        }

        DecodeBody(bytes, source, header, destination);
    }

    public static (long Offset, int Length) BlockByteRange(long elementCount, int blockElements, int firstBlock, int blockCount)
    {
        CheckBlockElements(blockElements);
        if (elementCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(elementCount), elementCount, "must not be negative.");
        }

        long totalBlocks = BlockCountFor(elementCount, blockElements);
        CheckBlockRange(totalBlocks, firstBlock, blockCount);
        long blockBytes = (4L * blockElements) + 4;
        long offset = HeaderSize + (firstBlock * blockBytes);
        long firstElement = (long)firstBlock * blockElements;
        long endElement = Math.Min((long)(firstBlock + blockCount) * blockElements, elementCount);
        long length = (4 * (endElement - firstElement)) + (4L * blockCount);
        if (length > int.MaxValue)
        {
            throw new ArgumentException($"blocks [{firstBlock}, {firstBlock + blockCount}) span {length} bytes, more than one range may hold.");
        }

        return (offset, (int)length);
    }

    public static void DecodeBlocks(
        ReadOnlySpan<byte> range, string source, long elementCount, int blockElements, int firstBlock, int blockCount, Span<float> destination)
    {
        var (_, length) = BlockByteRange(elementCount, blockElements, firstBlock, blockCount);
        if (range.Length != length)
        {
            throw new TensorFormatException(
                source, $"blocks [{firstBlock}, {firstBlock + blockCount}) should be {length} bytes but {range.Length} were read (truncated or wrong range).");
        }

        long firstElement = (long)firstBlock * blockElements;
        long endElement = Math.Min((long)(firstBlock + blockCount) * blockElements, elementCount);
        if (destination.Length != endElement - firstElement)
        {
            throw new ArgumentException(
                $"{source}: destination holds {destination.Length} floats but blocks [{firstBlock}, {firstBlock + blockCount}) hold {endElement - firstElement}.",
                nameof(destination));
        }

        DecodeBlockRun(range, source, elementCount, blockElements, firstBlock, blockCount, destination);
    }

    private static void DecodeBody(ReadOnlySpan<byte> bytes, string source, TensorHeader header, Span<float> destination)
    {
        long expected = EncodedSize(header.ElementCount, header.BlockElements);
        if (bytes.Length != expected)
        {
            string what = bytes.Length < expected ? "truncated" : "has trailing bytes";
            throw new TensorFormatException(source, $"{what}: {bytes.Length} bytes but the header describes {expected}.");
        }

        DecodeBlockRun(bytes[HeaderSize..], source, header.ElementCount, header.BlockElements, 0, header.BlockCount, destination);
    }

    private static void DecodeBlockRun(
        ReadOnlySpan<byte> run, string source, long elementCount, int blockElements, int firstBlock, int blockCount, Span<float> destination)
    {
        int offset = 0;
        int written = 0;
        for (int b = firstBlock; b < firstBlock + blockCount; b++)
        {
            int n = (int)Math.Min(blockElements, elementCount - ((long)b * blockElements));
            ReadOnlySpan<byte> payload = run.Slice(offset, 4 * n);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(run[(offset + (4 * n))..]);
            uint actual = Crc32C.Compute(payload);
            if (stored != actual)
            {
                throw new TensorChecksumException(
                    source, $"block {b} checksum mismatch (stored 0x{stored:X8}, computed 0x{actual:X8}): the data is corrupt.");
            }

            ReadFloats(payload, destination.Slice(written, n));
            written += n;
            offset += (4 * n) + 4;
        }
    }

    private static void WriteFloats(ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(source).CopyTo(destination);
        }
        else
        {
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(source), MemoryMarshal.Cast<byte, int>(destination));
        }
    }

    private static void ReadFloats(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(destination));
        }
        else
        {
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(source), MemoryMarshal.Cast<float, int>(destination));
        }
    }

    private static long BlockCountFor(long elementCount, int blockElements) => (elementCount + blockElements - 1) / blockElements;

    private static void CheckBlockElements(int blockElements)
    {
        if (blockElements is < 1 or > LargestBlockElements)
        {
            throw new ArgumentOutOfRangeException(nameof(blockElements), blockElements, $"must be in 1..{LargestBlockElements}.");
        }
    }

    private static void CheckBlockRange(long totalBlocks, int firstBlock, int blockCount)
    {
        if (firstBlock < 0 || blockCount < 0 || (long)firstBlock + blockCount > totalBlocks)
        {
            throw new ArgumentOutOfRangeException(
                nameof(firstBlock), $"blocks [{firstBlock}, {(long)firstBlock + blockCount}) are outside the tensor's {totalBlocks} blocks.");
        }
    }
}
