using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace StepML.Core.Tensors;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF),
/// the checksum of iSCSI, ext4 and S3's <c>x-amz-checksum-crc32c</c>.
/// </summary>
/// <remarks>
/// On x64 with SSE4.2 it uses the <c>crc32</c> instruction 8 bytes per step over three interleaved
/// streams (the instruction has a latency of 3 cycles and a throughput of 1, so one stream leaves
/// two thirds of the unit idle); the three partial CRCs are joined with the linear "shift by L zero
/// bytes" operator. On Arm64 it uses the CRC32C instructions; elsewhere a slicing-by-8 table.
/// </remarks>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;

    // Bytes per stream in one interleaved group of three.
    private const int StreamBytes = 2048;

    private static readonly uint[] s_table = BuildTable();

    // s_shift[k * 256 + b] = raw CRC state (b << 8k) advanced over StreamBytes zero bytes.
    private static readonly uint[] s_shift = BuildShiftTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC: <c>Append(Compute(a), b) == Compute(a ++ b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    internal static uint ComputeTable(ReadOnlySpan<byte> data) => ~UpdateTable(0xFFFFFFFFu, data);

    internal static uint ComputeSingleStream(ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            return ~UpdateSse42(0xFFFFFFFFu, data);
        }

        return ComputeTable(data);
    }

    // Raw state update (no pre/post inversion).
    private static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            return UpdateSse42Interleaved(state, data);
        }

        if (ArmCrc32.Arm64.IsSupported)
        {
            return UpdateArm64(state, data);
        }

        return UpdateTable(state, data);
    }

    private static uint UpdateSse42Interleaved(uint state, ReadOnlySpan<byte> data)
    {
        const int group = 3 * StreamBytes;
        ref byte start = ref MemoryMarshal.GetReference(data);
        int offset = 0;
        while (data.Length - offset >= group)
        {
            ulong a = state, b = 0, c = 0;
            for (int i = 0; i < StreamBytes; i += 8)
            {
                a = Sse42.X64.Crc32(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset + i)));
                b = Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset + StreamBytes + i)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset + 2 * StreamBytes + i)));
            }

            state = Shift((uint)a) ^ (uint)b;
            state = Shift(state) ^ (uint)c;
            offset += group;
        }

        return UpdateSse42(state, data[offset..]);
    }

    private static uint UpdateSse42(uint state, ReadOnlySpan<byte> data)
    {
        ulong crc = state;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        uint crc32 = (uint)crc;
        for (; i < data.Length; i++)
        {
            crc32 = Sse42.Crc32(crc32, data[i]);
        }

        return crc32;
    }

    private static uint UpdateArm64(uint state, ReadOnlySpan<byte> data)
    {
        uint crc = state;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = ArmCrc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = ArmCrc32.ComputeCrc32C(crc, data[i]);
        }

        return crc;
    }

    private static uint UpdateTable(uint state, ReadOnlySpan<byte> data)
    {
        uint[] t = s_table;
        uint crc = state;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint lo = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) ^ crc;
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            crc = t[(7 * 256) + (lo & 0xFF)] ^ t[(6 * 256) + ((lo >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((lo >> 16) & 0xFF)] ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xFF)] ^ t[(2 * 256) + ((hi >> 8) & 0xFF)]
                ^ t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
        }

        for (; i < data.Length; i++)
        {
            crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shift(uint state)
    {
        uint[] s = s_shift;
        return s[state & 0xFF] ^ s[256 + ((state >> 8) & 0xFF)] ^ s[512 + ((state >> 16) & 0xFF)] ^ s[768 + (state >> 24)];
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[n] = c;
        }

        for (int slice = 1; slice < 8; slice++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint prev = table[((slice - 1) * 256) + n];
                table[(slice * 256) + n] = table[prev & 0xFF] ^ (prev >> 8);
            }
        }

        return table;
    }

    private static uint[] BuildShiftTable()
    {
        // The zero-byte advance is linear over GF(2): compute it for the 32 basis states, then
        // tabulate per byte of the state.
        Span<byte> zeros = new byte[StreamBytes];
        Span<uint> basis = stackalloc uint[32];
        for (int bit = 0; bit < 32; bit++)
        {
            basis[bit] = UpdateTable(1u << bit, zeros);
        }

        var shift = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
        {
            for (int b = 0; b < 256; b++)
            {
                uint v = 0;
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((b & (1 << bit)) != 0)
                    {
                        v ^= basis[(8 * k) + bit];
                    }
                }

                shift[(k * 256) + b] = v;
            }
        }

        return shift;
    }
}
