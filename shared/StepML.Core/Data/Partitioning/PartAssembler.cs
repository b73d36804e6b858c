using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace StepML.Core.Data;

/// <summary>
/// Writes one <c>.part</c> file from spill records, section by section (labels, then values or CSR offsets,
/// indices and values), streaming the records once per section so memory stays at two buffers and one row.
/// Records are either dense (label, features floats) or sparse (label, count, indices, values); sparse records
/// are densified here when the partition is dense, so a range task that does not yet know the feature count
/// (<c>features: 0</c>) can still write its rows in one pass.
/// </summary>
internal static class PartAssembler
{
    public const int BufferBytes = 1 << 20;

    /// <param name="openRecords">Opens the records from the start; called once per section.</param>
    /// <param name="values">Non-zeros for a sparse partition (ignored for a dense one).</param>
    public static void Assemble(Func<Stream> openRecords, string name, bool recordsSparse, long rows, long values, bool sparse, int features,
        string path, AssemblyBuffers buffers)
    {
        long bodyLength = Partition.BodyLength(sparse, rows, features, values);
        string temporary = path + ".tmp";
        try
        {
            using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                output.Write(new byte[Partition.HeaderSize]);
                var body = new SectionWriter(output, buffers.Write);
                WriteSections(openRecords, name, recordsSparse, sparse, features, body, buffers);
                body.Flush();
                if (body.Written != bodyLength)
                {
                    throw new InvalidOperationException($"{name}: assembled {body.Written} body bytes, expected {bodyLength}.");
                }

                Span<byte> header = stackalloc byte[Partition.HeaderSize];
                Partition.WriteHeader(header, sparse, (int)rows, features, sparse ? values : rows * features, bodyLength, body.Crc);
                output.Position = 0;
                output.Write(header);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void WriteSections(Func<Stream> openRecords, string name, bool recordsSparse, bool sparse, int features, SectionWriter body, AssemblyBuffers buffers)
    {
        SpillReader Open() => new(openRecords(), name, recordsSparse, features, buffers);

        // Labels.
        Span<byte> bytes = stackalloc byte[4];
        using (var records = Open())
        {
            while (records.Next(out float label, out _, out _))
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes, label);
                body.Write(bytes);
            }
        }

        if (sparse)
        {
            // Row offsets (a running sum of the per-row counts), then column indices.
            int running = 0;
            BinaryPrimitives.WriteInt32LittleEndian(bytes, 0);
            body.Write(bytes);
            using (var records = Open())
            {
                while (records.Next(out _, out ReadOnlySpan<byte> indices, out _))
                {
                    running += indices.Length / 4;
                    BinaryPrimitives.WriteInt32LittleEndian(bytes, running);
                    body.Write(bytes);
                }
            }

            using (var records = Open())
            {
                while (records.Next(out _, out ReadOnlySpan<byte> indices, out _))
                {
                    body.Write(indices);
                }
            }
        }

        // Values: as stored, or a sparse record scattered into a dense row.
        float[]? dense = !sparse && recordsSparse ? new float[features] : null;
        using (var records = Open())
        {
            while (records.Next(out _, out ReadOnlySpan<byte> indices, out ReadOnlySpan<byte> values))
            {
                if (dense is null)
                {
                    body.Write(values);
                    continue;
                }

                Array.Clear(dense);
                ReadOnlySpan<int> at = MemoryMarshal.Cast<byte, int>(indices);
                ReadOnlySpan<float> value = MemoryMarshal.Cast<byte, float>(values);
                for (int k = 0; k < at.Length; k++)
                {
                    if ((uint)at[k] >= (uint)features)
                    {
                        throw new InvalidDataException($"{name}: feature index {at[k]} outside the {features} features the ranges reported.");
                    }

                    dense[at[k]] = value[k];
                }

                body.Write(MemoryMarshal.AsBytes(dense.AsSpan()));
            }
        }
    }

    // A partition is decoded from one byte array, so it must stay under Array.MaxLength bytes.
    public static void CheckFits(long rows, long values, bool sparse, int features, string name, int partitions)
    {
        long bodyLength = Partition.BodyLength(sparse, rows, features, values);
        if (Partition.HeaderSize + bodyLength > Array.MaxLength || rows > int.MaxValue - 1)
        {
            long needed = (long)Math.Ceiling(partitions * (double)(Partition.HeaderSize + bodyLength) / Array.MaxLength) + 1;
            throw new ArgumentException(
                $"{name} would hold {bodyLength} bytes, more than one partition may (2 GiB): set dataset.partitions to {needed} or more.");
        }
    }
}
