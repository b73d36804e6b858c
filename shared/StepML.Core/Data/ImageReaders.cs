using System.Buffers.Binary;
using System.IO.Compression;

namespace StepML.Core.Data;

/// <summary>
/// Reads IDX files (LeCun's MNIST format, also Fashion-MNIST): a big-endian header — two zero bytes, the element
/// type (0x08 = unsigned byte), the number of dimensions, then one u32 per dimension — followed by the data. Images
/// are <c>n × rows × cols</c> unsigned bytes, labels <c>n</c> unsigned bytes. Gzipped files (magic 1f 8b) are
/// decompressed on the fly. Pixels become x = byte / 255 in row-major order (NHWC with one channel); zero pixels are
/// left out of the row, which the dense partitioner fills with zeros.
/// </summary>
public sealed class IdxReader : IRowSource
{
    private readonly Stream _images;
    private readonly Stream _labels;
    private readonly string _source;
    private readonly byte[] _pixels;
    private readonly int _count;
    private int _read;

    public IdxReader(Stream images, Stream labels, string imagesName, string labelsName)
    {
        _source = imagesName;
        _images = MaybeGzip(images);
        _labels = MaybeGzip(labels);
        try
        {
            var imageDims = ReadHeader(_images, imagesName, 3, "images (n × rows × cols)");
            var labelDims = ReadHeader(_labels, labelsName, 1, "labels (n)");
            if (imageDims[0] != labelDims[0])
                throw new DatasetFormatException(labelsName, 0, $"holds {labelDims[0]} labels but {imagesName} holds {imageDims[0]} images: pair each images file with its own labels file");
            (_count, Height, Width) = (imageDims[0], imageDims[1], imageDims[2]);
            _pixels = new byte[Height * Width];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Height { get; }
    public int Width { get; }
    public int Channels => 1;
    public int Features => Height * Width;
    public int Count => _count;
    public long LineNumber => _read;
    public int BufferBytes => _pixels.Length;

    public bool Read(DatasetRow row)
    {
        if (_read == _count) return false;
        ReadExactly(_images, _pixels, _source, _read);
        Span<byte> label = stackalloc byte[1];
        ReadExactly(_labels, label, _source + " labels", _read);
        _read++;
        row.Clear(label[0]);
        for (var i = 0; i < _pixels.Length; i++)
            if (_pixels[i] != 0) row.Add(i, _pixels[i] * (1f / 255f));
        return true;
    }

    private static int[] ReadHeader(Stream stream, string name, int dimensions, string what)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, name, -1);
        if (magic[0] != 0 || magic[1] != 0)
            throw new DatasetFormatException(name, 0, "not an IDX file (the first two bytes must be zero); dataset.format \"idx\" expects e.g. train-images-idx3-ubyte(.gz)");
        if (magic[2] != 0x08)
            throw new DatasetFormatException(name, 0, $"IDX element type 0x{magic[2]:x2} is not supported: only unsigned bytes (0x08)");
        if (magic[3] != dimensions)
            throw new DatasetFormatException(name, 0, $"has {magic[3]} dimensions; {what} need {dimensions}: check dataset.path holds the images and dataset.labels the labels");
        var dims = new int[dimensions];
        Span<byte> size = stackalloc byte[4];
        for (var i = 0; i < dimensions; i++)
        {
            ReadExactly(stream, size, name, -1);
            var d = BinaryPrimitives.ReadUInt32BigEndian(size);
            if (d == 0 || d > 1 << 30) throw new DatasetFormatException(name, 0, $"dimension {i} is {d}: the header is corrupt");
            dims[i] = (int)d;
        }
        if (dimensions == 3 && (long)dims[1] * dims[2] > 1 << 24)
            throw new DatasetFormatException(name, 0, $"images of {dims[1]}×{dims[2]} pixels are too large");
        return dims;
    }

    internal static Stream MaybeGzip(Stream stream)
    {
        var head = new byte[2];
        var n = stream.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        // Put the sniffed bytes back in front: store streams (S3) cannot seek.
        Stream whole = new PrefixedStream(head.AsMemory(0, n), stream);
        return n == 2 && head[0] == 0x1f && head[1] == 0x8b
            ? new BufferedStream(new GZipStream(whole, CompressionMode.Decompress), 1 << 16)
            : new BufferedStream(whole, 1 << 16);
    }

    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.IsEmpty) return rest.Read(buffer);
            var n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) rest.Dispose();
            base.Dispose(disposing);
        }
    }

    internal static void ReadExactly(Stream stream, Span<byte> buffer, string name, long record)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new DatasetFormatException(name, Math.Max(record + 1, 0), record < 0 ? "truncated header" : $"ends inside record {record + 1}: the file is truncated");
        }
    }

    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}

/// <summary>
/// Reads the CIFAR-10 binary format (data_batch_*.bin, test_batch.bin): records of 1 label byte (0-9) and 3072
/// pixel bytes, the 1024 red, then green, then blue values of a 32×32 image in row-major order. Pixels are scaled to
/// [0, 1] and reordered to height × width × channel (NHWC), the layout of <see cref="Models.Neural.Conv2dLayer"/>.
/// </summary>
public sealed class CifarReader(Stream stream, string source) : IRowSource
{
    public const int Height = 32;
    public const int Width = 32;
    public const int Channels = 3;
    public const int Features = Height * Width * Channels;
    private const int RecordBytes = 1 + Features;
    private readonly Stream _stream = new BufferedStream(stream, 1 << 16);
    private readonly byte[] _record = new byte[RecordBytes];
    private long _read;

    public long LineNumber => _read;
    public int BufferBytes => RecordBytes + (1 << 16);

    public bool Read(DatasetRow row)
    {
        var n = _stream.ReadAtLeast(_record, RecordBytes, throwOnEndOfStream: false);
        if (n == 0) return false;
        if (_read == 0 && Archive(_record.AsSpan(0, n)) is { } archive)
            throw new DatasetFormatException(source, 1, archive);
        if (n < RecordBytes)
            throw new DatasetFormatException(source, _read + 1, $"ends inside record {_read + 1} ({n} of {RecordBytes} bytes): CIFAR-10 binary records are 1 label byte + 3072 pixel bytes");
        _read++;
        if (_record[0] > 99)
            throw new DatasetFormatException(source, _read, $"label byte {_record[0]} is not a class id: is this a CIFAR-10 binary batch (data_batch_N.bin)?");
        row.Clear(_record[0]);
        const int plane = Height * Width;
        for (var p = 0; p < plane; p++)
            for (var c = 0; c < Channels; c++)
            {
                var value = _record[1 + c * plane + p];
                if (value != 0) row.Add(p * Channels + c, value * (1f / 255f));
            }
        return true;
    }

    /// <summary>What CIFAR-10 is downloaded as (cifar-10-binary.tar.gz), recognised by its magic numbers: a gzip or ZIP
    /// file starts with bytes that no CIFAR-10 label (0-9) can be, a tar holds "ustar" at byte 257.</summary>
    private static string? Archive(ReadOnlySpan<byte> head)
    {
        const string fix = "extract it (tar xzf cifar-10-binary.tar.gz) and point dataset.path at one batch, e.g. cifar-10-batches-bin/data_batch_1.bin";
        if (head.StartsWith(new byte[] { 0x1F, 0x8B })) return $"this is gzip-compressed, not a CIFAR-10 binary batch: {fix}";
        if (head.StartsWith("PK\u0003\u0004"u8)) return "this is a ZIP archive, not a CIFAR-10 binary batch: extract it (unzip FILE) and point dataset.path at one data_batch_N.bin";
        if (head.Length >= 262 && head[257..262].SequenceEqual("ustar"u8)) return $"this is a tar archive, not a CIFAR-10 binary batch: {fix}";
        return null;
    }

    public void Dispose() => _stream.Dispose();
}
