using System.Text;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

internal static class DataTestHelpers
{
    public static Stream Utf8(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    public static List<(float Label, int[] Indices, float[] Values, long Line)> ReadAllLibSvm(string text, string source = "data.libsvm")
    {
        using var reader = new LibSvmReader(Utf8(text), source);
        var rows = new List<(float, int[], float[], long)>();
        var row = new DatasetRow();
        while (reader.Read(row))
        {
            rows.Add((row.Label, row.Indices[..row.Count], row.Values[..row.Count], reader.LineNumber));
        }

        return rows;
    }

    public static List<(float Label, float[] Values)> ReadAllCsv(string text, bool header = false)
    {
        using var reader = new CsvReader(Utf8(text), "data.csv", header);
        var rows = new List<(float, float[])>();
        var row = new DatasetRow();
        while (reader.Read(row))
        {
            Assert.Equal(Enumerable.Range(0, row.Count), row.Indices[..row.Count]);
            rows.Add((row.Label, row.Values[..row.Count]));
        }

        return rows;
    }
}
