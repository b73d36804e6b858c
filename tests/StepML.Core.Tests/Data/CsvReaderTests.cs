using StepML.Core.Data;
using static StepML.Core.Tests.Data.DataTestHelpers;

namespace StepML.Core.Tests.Data;

public class CsvReaderTests
{
    [Fact]
    public void Read_HiggsLayout_LabelFirstAndZerosExplicit()
    {
        var rows = ReadAllCsv("1.000000000000000000e+00,8.692932128906250000e-01,0,-6.350818276405334473e-01\n0,0,0,1\n");

        Assert.Equal(2, rows.Count);
        Assert.Equal(1f, rows[0].Label);
        Assert.Equal([0.869293213f, 0f, -0.635081828f], rows[0].Values);
        Assert.Equal([0f, 0f, 1f], rows[1].Values);
    }

    [Fact]
    public void Read_HeaderCrlfSpacesAndBlankLines_Handled()
    {
        var rows = ReadAllCsv("label,f1,f2\r\n1, 2 ,3\r\n\r\n0,4,5", header: true);

        Assert.Equal(2, rows.Count);
        Assert.Equal([2f, 3f], rows[0].Values);
        Assert.Equal(0f, rows[1].Label);
    }

    [Fact]
    public void Read_ColumnCountChanges_ThrowsNamingLine()
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllCsv("1,2,3\n0,1,2\n\n1,2\n"));
        Assert.StartsWith("data.csv:4: ", ex.Message);
        Assert.Contains("line 1 has 3", ex.Message);
    }

    [Fact]
    public void Read_BadNumber_ThrowsNamingColumnAndLine()
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllCsv("1,2,3\n0,x,2\n"));
        Assert.StartsWith("data.csv:2: column 2 'x' is not a number", ex.Message);
    }

    [Fact]
    public void Read_ValueBeyondFloat_SaysOutOfRangeAsLibSvmDoes()
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllCsv("1,2,3\n0,1e39,2\n"));
        Assert.StartsWith("data.csv:2: column 2 '1e39' is outside the float range (±3.4e38)", ex.Message);
    }

    [Fact]
    public void Read_EmptyField_Throws()
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllCsv("1,,3\n"));
        Assert.StartsWith("data.csv:1: column 2 is empty", ex.Message);
    }

    [Fact]
    public void Read_UnexpectedHeader_HintsAtHeaderOption()
    {
        var ex = Assert.Throws<DatasetFormatException>(() => ReadAllCsv("label,a,b\n1,2,3\n"));
        Assert.StartsWith("data.csv:1: label (column 1)", ex.Message);
        Assert.Contains("header", ex.Message);
    }
}
