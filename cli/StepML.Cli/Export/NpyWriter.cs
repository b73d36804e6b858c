using System.Text;

namespace StepML.Cli.Export;

/// <summary>NumPy's .npy format, version 1.0: magic "\x93NUMPY", version 1 0, a u16 header length, an ASCII dict
/// padded with spaces and ended by '\n' so the data starts at a multiple of 64, then little-endian float32 in C order.</summary>
internal static class NpyWriter
{
    public static byte[] Float32(ReadOnlySpan<float> values, IReadOnlyList<int> shape)
    {
        var dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        var headerLength = (dict.Length + 1 + 10 + 63) / 64 * 64 - 10;
        var header = dict.PadRight(headerLength - 1) + "\n";
        var bytes = new byte[10 + headerLength + 4 * values.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        bytes[7] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8, 2), (ushort)headerLength);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(bytes.AsSpan(10 + headerLength));
        return bytes;
    }
}
