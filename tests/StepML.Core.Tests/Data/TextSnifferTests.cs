using System.IO.Compression;
using System.Text;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class TextSnifferTests
{
    private static readonly byte[] s_rows = Encoding.ASCII.GetBytes("1 1:0.5 2:1\n0 1:0.25 2:2\n");

    private static List<float> ReadLibSvm(byte[] bytes)
    {
        using var reader = new LibSvmReader(new MemoryStream(bytes), "datasets/x.libsvm");
        var row = new DatasetRow();
        var labels = new List<float>();
        while (reader.Read(row)) labels.Add(row.Label);
        return labels;
    }

    private static DatasetFormatException ReadFails(byte[] bytes, DatasetFormat format = DatasetFormat.LibSvm)
    {
        return Assert.Throws<DatasetFormatException>(() =>
        {
            var row = new DatasetRow();
            if (format == DatasetFormat.LibSvm)
            {
                using var reader = new LibSvmReader(new MemoryStream(bytes), "datasets/x");
                while (reader.Read(row)) { }
            }
            else
            {
                using var reader = new CsvReader(new MemoryStream(bytes), "datasets/x");
                while (reader.Read(row)) { }
            }
        });
    }

    [Fact]
    public void Read_Utf8ByteOrderMark_IsSkipped()
    {
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. s_rows];

        Assert.Equal([1f, 0f], ReadLibSvm(withBom));
    }

    [Fact]
    public void Read_GzipFile_SaysDecompressIt()
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(s_rows);

        var e = ReadFails(compressed.ToArray());

        Assert.Equal(1, e.LineNumber);
        Assert.Contains("gzip-compressed", e.Message);
        Assert.Contains("gunzip", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0 }, "ZIP archive")]
    [InlineData(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0, 0 }, "xz-compressed")]
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0 }, "zstd-compressed")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x31, 0x00, 0x20, 0x00 }, "UTF-16")]
    public void Read_ContainerOrUtf16_NamesWhatItIs(byte[] head, string expected)
    {
        Assert.Contains(expected, ReadFails(head).Message);
    }

    [Fact]
    public void Read_RandomBytes_SaysNotATextFileWithoutQuotingThem()
    {
        var garbage = new byte[5000];
        new Random(7).NextBytes(garbage);
        garbage[0] = (byte)'s';

        var e = ReadFails(garbage);

        Assert.Contains("not a text file", e.Message);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void Read_LibSvmContentReadAsCsv_SuggestsFormatLibSvm()
    {
        var e = ReadFails(s_rows, DatasetFormat.Csv);

        Assert.Contains("looks like LIBSVM", e.Message);
        Assert.Contains("dataset.format to \"libsvm\"", e.Message);
    }

    [Fact]
    public void Read_CsvContentReadAsLibSvm_SuggestsFormatCsv()
    {
        var e = ReadFails(Encoding.ASCII.GetBytes("# comment, with comma\n1,0.5,2\n0,1,3\n"));

        Assert.Contains("looks like CSV", e.Message);
    }

    [Fact]
    public void Read_EmptyInput_ReturnsNoRows()
    {
        Assert.Empty(ReadLibSvm([]));
    }
}
