using StepML.Core.Data;
using static StepML.Core.Tests.Data.DataTestHelpers;

namespace StepML.Core.Tests.Data;

public class LibSvmReaderTests
{
    [Fact]
    public void Read_DenseRows_ReturnsZeroBasedIndicesAndValues()
    {
        var rows = ReadAllLibSvm("1 1:0.5 2:-1.25 3:3e2\n0 1:0 2:7 3:0.001\n");

        Assert.Equal(2, rows.Count);
        Assert.Equal(1f, rows[0].Label);
        Assert.Equal([0, 1, 2], rows[0].Indices);
        Assert.Equal([0.5f, -1.25f, 300f], rows[0].Values);
        Assert.Equal(0f, rows[1].Label);
        Assert.Equal([0f, 7f, 0.001f], rows[1].Values);
    }

    [Fact]
    public void Read_SparseRowsWithOmittedZeros_KeepsOnlyListedFeatures()
    {
        var rows = ReadAllLibSvm("-1 3:1 10:2\n+1\n1 1:4\n");

        Assert.Equal([2, 9], rows[0].Indices);
        Assert.Equal(-1f, rows[0].Label);
        Assert.Empty(rows[1].Indices);
        Assert.Equal(1f, rows[1].Label);
        Assert.Equal([0], rows[2].Indices);
    }

    [Theory]
    [InlineData("1", 1f)]
    [InlineData("-1", -1f)]
    [InlineData("+1", 1f)]
    [InlineData("0", 0f)]
    [InlineData("1.0", 1f)]
    [InlineData("2.5", 2.5f)]
    public void Read_LabelSpellings_Parsed(string label, float expected)
    {
        Assert.Equal(expected, ReadAllLibSvm(label + " 1:1\n")[0].Label);
    }

    [Fact]
    public void Read_CommentsBlankLinesTabsAndCrlf_SkippedWithTrueLineNumbers()
    {
        const string text = "# header comment\r\n\r\n1 1:1\t2:2 # trailing comment\r\n   \r\n\t0\t3:3#tight\r\n-1 1:5";
        var rows = ReadAllLibSvm(text);

        Assert.Equal(3, rows.Count);
        Assert.Equal(3, rows[0].Line);
        Assert.Equal([1f, 2f], rows[0].Values);
        Assert.Equal(5, rows[1].Line);
        Assert.Equal([2], rows[1].Indices);
        Assert.Equal(6, rows[2].Line);
        Assert.Equal([5f], rows[2].Values);
    }

    [Fact]
    public void Read_ManyFeatures_GrowsRowBuffers()
    {
        string line = "1 " + string.Join(' ', Enumerable.Range(1, 5000).Select(i => $"{i}:{i}"));
        var rows = ReadAllLibSvm(line + "\n" + line + "\n");
        Assert.Equal(5000, rows[1].Indices.Length);
        Assert.Equal(5000f, rows[1].Values[^1]);
    }

    [Theory]
    [InlineData("1 1:1\n1 0:1\n", 2, "index 0")]
    [InlineData("1 1:1\n\n1 2:1 2:3\n", 3, "strictly ascending")]
    [InlineData("1 3:1 2:1\n", 1, "strictly ascending")]
    [InlineData("1 1:1\n1 2 3:1\n", 2, "missing ':'")]
    [InlineData("1 1:abc\n", 1, "not a number")]
    [InlineData("1 1:nan\n", 1, "not a number")]
    [InlineData("1 1:inf\n", 1, "not a number")]
    [InlineData("1 1:1e40\n", 1, "float range")]
    [InlineData("1 1:0.5x\n", 1, "not a number")]
    [InlineData("yes 1:1\n", 1, "bad label")]
    [InlineData("1 a:1\n", 1, "expected 'index:value'")]
    [InlineData("1 99999999999:1\n", 1, "larger than")]
    public void Read_MalformedLine_ThrowsNamingFileAndLine(string text, int line, string expected)
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllLibSvm(text, "s3://b/higgs.libsvm"));
        Assert.StartsWith($"s3://b/higgs.libsvm:{line}: ", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Equal(line, ex.LineNumber);
    }

    [Fact]
    public void TryReadLine_LinesLongerThanBuffer_GrowsAndSplitsCorrectly()
    {
        string longLine = new('x', 100);
        using var lines = new LineBuffer(Utf8($"ab\r\n{longLine}\nc\n\nlast"), "t", size: 16);
        var seen = new List<string>();
        while (lines.TryReadLine(out ReadOnlySpan<byte> line))
        {
            seen.Add(System.Text.Encoding.ASCII.GetString(line));
        }

        Assert.Equal(["ab", longLine, "c", "", "last"], seen);
        Assert.Equal(5, lines.LineNumber);
    }

    [Fact]
    public void TryReadLine_LineBeyondLimit_ThrowsInsteadOfGrowingForever()
    {
        using var lines = new LineBuffer(Utf8("1 1:1\n" + new string('7', 500)), "blob.bin", size: 16, maxLineBytes: 64);
        Assert.True(lines.TryReadLine(out _));
        var ex = Assert.Throws<DatasetFormatException>(() => lines.TryReadLine(out _));
        Assert.StartsWith("blob.bin:2: a line longer than", ex.Message);
    }
}
