using System.Buffers.Binary;
using System.IO.Compression;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class ImageReaderTests
{
    internal static byte[] Idx(byte[] data, params int[] dims)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
        return output.ToArray();
    }

    // A stream that cannot seek, like an S3 response body.
    private sealed class ForwardOnly(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }

    private static List<(float Label, float[] Pixels)> ReadAll(IRowSource reader, int features)
    {
        var rows = new List<(float, float[])>();
        var row = new DatasetRow();
        while (reader.Read(row))
        {
            var dense = new float[features];
            for (var k = 0; k < row.Count; k++) dense[row.Indices[k]] = row.Values[k];
            rows.Add((row.Label, dense));
        }
        return rows;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxReader_PlainOrGzipped_ReadsScaledPixelsAndLabels(bool gzip)
    {
        var pixels = Enumerable.Range(0, 3 * 2 * 5).Select(i => (byte)(i * 8)).ToArray();
        var images = Idx(pixels, 3, 2, 5);
        var labels = Idx([4, 0, 9], 3);
        if (gzip) (images, labels) = (Gzip(images), Gzip(labels));

        using var reader = new IdxReader(new ForwardOnly(images), new ForwardOnly(labels), "img", "lbl");
        var rows = ReadAll(reader, reader.Features);

        Assert.Equal((2, 5, 1, 10, 3), (reader.Height, reader.Width, reader.Channels, reader.Features, reader.Count));
        Assert.Equal([4f, 0f, 9f], rows.Select(r => r.Label));
        for (var r = 0; r < 3; r++)
            for (var i = 0; i < 10; i++)
                Assert.Equal(pixels[r * 10 + i] / 255f, rows[r].Pixels[i], 1e-7f);
    }

    [Fact]
    public void IdxReader_CountsDisagree_ThrowsNamingBothFiles()
    {
        var e = Assert.Throws<DatasetFormatException>(() => new IdxReader(new MemoryStream(Idx(new byte[8], 2, 2, 2)), new MemoryStream(Idx([1, 2, 3], 3)), "img", "lbl"));
        Assert.Contains("3 labels", e.Message);
        Assert.Contains("img", e.Message);
    }

    [Fact]
    public void IdxReader_LabelsGivenAsImages_ThrowsNamingTheFix()
    {
        var e = Assert.Throws<DatasetFormatException>(() => new IdxReader(new MemoryStream(Idx([1, 2], 2)), new MemoryStream(Idx([1, 2], 2)), "img", "lbl"));
        Assert.Contains("dataset.labels", e.Message);
    }

    [Fact]
    public void IdxReader_TruncatedImages_ThrowsWithRecordNumber()
    {
        using var reader = new IdxReader(new MemoryStream(Idx(new byte[7], 2, 2, 2)), new MemoryStream(Idx([1, 2], 2)), "img", "lbl");
        var row = new DatasetRow();
        Assert.True(reader.Read(row));
        var e = Assert.Throws<DatasetFormatException>(() => reader.Read(row));
        Assert.Contains("record 2", e.Message);
    }

    internal static byte[] CifarRecord(byte label, Func<int, int, byte> pixel)
    {
        var record = new byte[3073];
        record[0] = label;
        for (var c = 0; c < 3; c++)
            for (var p = 0; p < 1024; p++) record[1 + c * 1024 + p] = pixel(c, p);
        return record;
    }

    [Fact]
    public void CifarReader_Records_AreScaledAndReorderedToChannelsLast()
    {
        var bytes = CifarRecord(3, (c, p) => (byte)((p * 7 + c * 50) % 256)).Concat(CifarRecord(8, (c, p) => (byte)(c == 2 ? 255 : 0))).ToArray();
        using var reader = new CifarReader(new ForwardOnly(bytes), "batch.bin");
        var rows = ReadAll(reader, CifarReader.Features);

        Assert.Equal([3f, 8f], rows.Select(r => r.Label));
        for (var p = 0; p < 1024; p++)
            for (var c = 0; c < 3; c++)
            {
                Assert.Equal((p * 7 + c * 50) % 256 / 255f, rows[0].Pixels[p * 3 + c], 1e-7f);
                Assert.Equal(c == 2 ? 1f : 0f, rows[1].Pixels[p * 3 + c]);
            }
    }

    [Fact]
    public void CifarReader_PartialRecord_Throws()
    {
        var bytes = CifarRecord(1, (_, _) => 1).Concat(new byte[100]).ToArray();
        using var reader = new CifarReader(new MemoryStream(bytes), "batch.bin");
        var row = new DatasetRow();
        Assert.True(reader.Read(row));
        var e = Assert.Throws<DatasetFormatException>(() => reader.Read(row));
        Assert.Contains("3072 pixel bytes", e.Message);
    }

    [Fact]
    public void CifarReader_GzippedBatch_SaysExtractItInsteadOfABadLabel()
    {
        var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            for (var i = 0; i < 4; i++) gzip.Write(CifarRecord((byte)(i % 10), (c, p) => (byte)(p + c)));
        using var reader = new CifarReader(new MemoryStream(compressed.ToArray()), "cifar-10-binary.tar.gz");

        var e = Assert.Throws<DatasetFormatException>(() => reader.Read(new DatasetRow()));

        Assert.Contains("gzip-compressed", e.Message);
        Assert.Contains("tar xzf", e.Message);
    }

    [Fact]
    public void CifarReader_TarOfBatches_SaysExtractIt()
    {
        // A tar header: the member's name, then "ustar" at byte 257; 'c' (99) would pass as a label.
        var tar = new byte[2 * 3073];
        "cifar-10-batches-bin/data_batch_1.bin"u8.CopyTo(tar);
        "ustar"u8.CopyTo(tar.AsSpan(257));
        using var reader = new CifarReader(new MemoryStream(tar), "cifar.tar");

        var e = Assert.Throws<DatasetFormatException>(() => reader.Read(new DatasetRow()));

        Assert.Contains("tar archive", e.Message);
    }

    [Fact]
    public void PartitionerRun_IdxRowSource_WritesDensePartitionsWithEveryImage()
    {
        const int n = 40;
        var pixels = Enumerable.Range(0, n * 4).Select(i => (byte)(i % 251)).ToArray();
        var images = Idx(pixels, n, 2, 2);
        var labels = Idx(Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray(), n);
        var dir = Directory.CreateTempSubdirectory("idx-parts-").FullName;
        try
        {
            var summary = Partitioner.Run(() => new IdxReader(new MemoryStream(images), new MemoryStream(labels), "img", "lbl"), "img",
                new PartitionOptions(3, 0.1, 9, Features: 4, Labels: LabelMapping.Raw), dir);

            Assert.Equal((4, n, 9f), (summary.Features, summary.TotalRows, summary.MaxLabel));
            var parts = Enumerable.Range(0, 3).Select(p => Partition.Decode(File.ReadAllBytes(Path.Combine(dir, $"{p}.part")), "p"))
                .Append(Partition.Decode(File.ReadAllBytes(Path.Combine(dir, "validation.part")), "v")).ToList();
            Assert.Equal(n, parts.Sum(p => p.Rows));
            // Every image arrives intact with its label: pixel 0 of image i is 4i mod 251, its label i mod 10.
            var seen = parts.SelectMany(p => Enumerable.Range(0, p.Rows).Select(r => (p.Dense![r * 4], p.Labels[r]))).ToList();
            for (var i = 0; i < n; i++) Assert.Contains((4 * i % 251 * (1f / 255f), (float)(i % 10)), seen);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
