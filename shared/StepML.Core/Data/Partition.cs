using System.Buffers.Binary;
using System.Runtime.InteropServices;
using StepML.Core.Tensors;

namespace StepML.Core.Data;

/// <summary>A <c>.part</c> file is malformed or corrupt; the message starts with the source name.</summary>
public sealed class PartitionFormatException(string source, string message) : Exception($"{source}: {message}");

/// <summary>
/// One worker's share of a dataset, held as flat arrays: labels plus either a row-major dense
/// matrix or CSR (row offsets, 0-based column indices ascending within a row, values).
/// </summary>
/// <remarks>
/// File layout, little-endian: a 64-byte header — [0,4) "SMLP"; [4,6) u16 version 1; [6,8) u16 kind
/// (1 dense, 2 sparse); [8,12) i32 rows; [12,16) i32 features; [16,24) i64 stored values (nnz;
/// rows·features when dense); [24,32) i64 body length; [32,36) u32 CRC32C of the body; [36,60) zero;
/// [60,64) CRC32C of [0,60) — then the body: f32 labels[rows], then f32 values[rows·features]
/// (dense) or i32 rowOffsets[rows+1], i32 indices[nnz], f32 values[nnz] (sparse). Every count is
/// known once the rows are, so a writer streams the body sections in order and fills the header last.
/// </remarks>
public sealed class Partition
{
    internal const int HeaderSize = 64;
    internal const ushort KindDense = 1;
    internal const ushort KindSparse = 2;
    private const uint Magic = 0x504C4D53; // "SMLP" as a little-endian u32
    private const ushort Version = 1;

    private Partition(int features, float[] labels, float[]? dense, int[]? rowOffsets, int[]? indices, float[]? values)
    {
        Features = features;
        Labels = labels;
        Dense = dense;
        RowOffsets = rowOffsets;
        Indices = indices;
        Values = values;
    }

    public int Rows => Labels.Length;

    public int Features { get; }

    public bool IsSparse => RowOffsets is not null;

    public float[] Labels { get; }

    public float[]? Dense { get; }

    public int[]? RowOffsets { get; }

    public int[]? Indices { get; }

    public float[]? Values { get; }

    public static Partition CreateDense(int features, float[] labels, float[] values)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(values);
        string? problem = CheckDense(features, labels.Length, values.Length);
        return problem is null ? new Partition(features, labels, values, null, null, null) : throw new ArgumentException(problem);
    }

    public static Partition CreateSparse(int features, float[] labels, int[] rowOffsets, int[] indices, float[] values)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(rowOffsets);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        string? problem = CheckSparse(features, labels.Length, rowOffsets, indices, values.Length);
        return problem is null ? new Partition(features, labels, null, rowOffsets, indices, values) : throw new ArgumentException(problem);
    }

    public ReadOnlySpan<float> DenseRow(int row)
    {
        if (Dense is null)
        {
            throw new InvalidOperationException("DenseRow needs a dense partition; this one is sparse (use RowOffsets, Indices and Values).");
        }

        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"must be in [0, {Rows}).");
        }

        return Dense.AsSpan(row * Features, Features);
    }

    internal static long BodyLength(bool sparse, long rows, long features, long nnz) =>
        sparse ? (4 * rows) + (4 * (rows + 1)) + (8 * nnz) : (4 * rows) + (4 * rows * features);

    public byte[] Encode()
    {
        RequireLittleEndian();
        long nnz = IsSparse ? Values!.Length : (long)Rows * Features;
        long bodyLength = BodyLength(IsSparse, Rows, Features, nnz);
        var bytes = new byte[HeaderSize + bodyLength];
        Span<byte> body = bytes.AsSpan(HeaderSize);
        int offset = 0;
        offset += Copy(MemoryMarshal.AsBytes(Labels.AsSpan()), body[offset..]);
        if (IsSparse)
        {
            offset += Copy(MemoryMarshal.AsBytes(RowOffsets.AsSpan()), body[offset..]);
            offset += Copy(MemoryMarshal.AsBytes(Indices.AsSpan()), body[offset..]);
            Copy(MemoryMarshal.AsBytes(Values.AsSpan()), body[offset..]);
        }
        else
        {
            Copy(MemoryMarshal.AsBytes(Dense.AsSpan()), body[offset..]);
        }

        WriteHeader(bytes, IsSparse, Rows, Features, nnz, bodyLength, Crc32C.Compute(body));
        return bytes;
    }

    internal static void WriteHeader(Span<byte> header, bool sparse, int rows, int features, long nnz, long bodyLength, uint bodyCrc)
    {
        header = header[..HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], sparse ? KindSparse : KindDense);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], rows);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], features);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], nnz);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], bodyCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[60..], Crc32C.Compute(header[..60]));
    }

    public static Partition Decode(ReadOnlySpan<byte> bytes, string source)
    {
        RequireLittleEndian();
        if (bytes.Length < HeaderSize)
        {
            throw new PartitionFormatException(source, $"truncated: {bytes.Length} bytes is shorter than the {HeaderSize}-byte partition header.");
        }

        ReadOnlySpan<byte> header = bytes[..HeaderSize];
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            throw new PartitionFormatException(source, "not a StepML partition (magic is not \"SMLP\"); re-run the partitioning step.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[60..]) != Crc32C.Compute(header[..60]))
        {
            throw new PartitionFormatException(source, "header checksum mismatch: the file is corrupt; re-run the partitioning step.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
        {
            throw new PartitionFormatException(source, $"unsupported partition version {version} (this build reads version {Version}).");
        }

        ushort kind = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        if (kind is not (KindDense or KindSparse))
        {
            throw new PartitionFormatException(source, $"unknown partition kind {kind} (1 = dense, 2 = sparse).");
        }

        bool sparse = kind == KindSparse;
        int rows = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        int features = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        long nnz = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        long bodyLength = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        if (rows < 0 || features < 1 || nnz < 0 || nnz > Array.MaxLength || (!sparse && nnz != (long)rows * features))
        {
            throw new PartitionFormatException(source, $"inconsistent header: rows {rows}, features {features}, values {nnz}.");
        }

        if (bodyLength != BodyLength(sparse, rows, features, nnz))
        {
            throw new PartitionFormatException(source, $"header body length {bodyLength} does not match rows {rows} and values {nnz}.");
        }

        if (bytes.Length - HeaderSize != bodyLength)
        {
            string what = bytes.Length - HeaderSize < bodyLength ? "truncated" : "has trailing bytes";
            throw new PartitionFormatException(source, $"{what}: {bytes.Length} bytes but the header describes {HeaderSize + bodyLength}.");
        }

        ReadOnlySpan<byte> body = bytes[HeaderSize..];
        uint storedBodyCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        if (storedBodyCrc != Crc32C.Compute(body))
        {
            throw new PartitionFormatException(source, "body checksum mismatch: the file is corrupt; re-run the partitioning step.");
        }

        var labels = new float[rows];
        int offset = Read(body, labels);
        if (!sparse)
        {
            var dense = new float[nnz];
            Read(body[offset..], dense);
            return new Partition(features, labels, dense, null, null, null);
        }

        var rowOffsets = new int[rows + 1];
        var indices = new int[nnz];
        var values = new float[nnz];
        offset += Read(body[offset..], rowOffsets);
        offset += Read(body[offset..], indices);
        Read(body[offset..], values);
        string? problem = CheckSparse(features, rows, rowOffsets, indices, values.Length);
        if (problem is not null)
        {
            throw new PartitionFormatException(source, problem);
        }

        return new Partition(features, labels, null, rowOffsets, indices, values);
    }

    private static string? CheckDense(int features, int rows, int values)
    {
        if (features < 1)
        {
            return $"features must be at least 1 (was {features}).";
        }

        return (long)rows * features != values
            ? $"a dense partition of {rows} rows × {features} features needs {(long)rows * features} values, not {values}."
            : null;
    }

    private static string? CheckSparse(int features, int rows, int[] rowOffsets, int[] indices, int values)
    {
        if (features < 1)
        {
            return $"features must be at least 1 (was {features}).";
        }

        if (rowOffsets.Length != rows + 1)
        {
            return $"rowOffsets must hold rows + 1 = {rows + 1} entries, not {rowOffsets.Length}.";
        }

        if (indices.Length != values)
        {
            return $"indices ({indices.Length}) and values ({values}) differ in length.";
        }

        if (rowOffsets[0] != 0 || rowOffsets[rows] != indices.Length)
        {
            return $"rowOffsets must start at 0 and end at {indices.Length} (found {rowOffsets[0]} and {rowOffsets[rows]}).";
        }

        for (int r = 0; r < rows; r++)
        {
            int start = rowOffsets[r];
            int end = rowOffsets[r + 1];
            if (end < start || end > indices.Length)
            {
                return $"rowOffsets decrease at row {r} ({start} then {end}).";
            }

            int previous = -1;
            for (int k = start; k < end; k++)
            {
                int index = indices[k];
                if (index <= previous || index >= features)
                {
                    return $"row {r} has column index {index} after {previous}: indices must ascend within a row and lie in [0, {features}).";
                }

                previous = index;
            }
        }

        return null;
    }

    // Sections are copied as raw memory; no big-endian .NET host is supported today.
    internal static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("partition files are read and written as little-endian memory images; this host is big-endian.");
        }
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    private static int Read<T>(ReadOnlySpan<byte> source, T[] destination)
        where T : unmanaged
    {
        Span<byte> target = MemoryMarshal.AsBytes(destination.AsSpan());
        source[..target.Length].CopyTo(target);
        return target.Length;
    }
}
