using System.Globalization;
using System.Text;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public sealed class PartitionerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "stepml-partitioner-" + Guid.NewGuid().ToString("N"));

    public PartitionerTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Run_SameSeed_ByteIdenticalPartitionsDifferentSeedDiffers()
    {
        byte[] data = Higgs(rows: 2000, features: 6, seed: 1);
        var options = new PartitionOptions(Partitions: 4, ValidationFraction: 0.2, Seed: 42);

        Run(data, options, "a");
        Run(data, options, "b");
        Run(data, options with { Seed = 43 }, "c");

        foreach (string name in PartNames(4))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "a", name)), File.ReadAllBytes(Path.Combine(_root, "b", name)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(_root, "a", "0.part")), File.ReadAllBytes(Path.Combine(_root, "c", "0.part")));
        Assert.Equal(PartNames(4).Order(), Directory.GetFileSystemEntries(Path.Combine(_root, "a")).Select(Path.GetFileName).Order()!);
    }

    [Fact]
    public void Run_EveryRow_LandsInExactlyOnePartitionWithItsFeatures()
    {
        // Raw labels carry the row id, so each row can be found again.
        var text = new StringBuilder();
        for (int r = 0; r < 500; r++)
        {
            text.Append(r.ToString(CultureInfo.InvariantCulture));
            for (int j = 0; j < 5; j++)
            {
                if ((r + j) % 3 != 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {j + 1}:{r + (j * 0.25)}");
                }
            }

            text.Append('\n');
        }

        foreach (bool sparse in new[] { false, true })
        {
            var options = new PartitionOptions(3, 0.1, 7, Features: 5, Sparse: sparse, Labels: LabelMapping.Raw);
            var summary = Run(Encoding.ASCII.GetBytes(text.ToString()), options, sparse ? "sparse" : "dense");

            var seen = new HashSet<int>();
            foreach (string name in PartNames(3))
            {
                Partition part = Load(Path.Combine(sparse ? "sparse" : "dense", name));
                Assert.Equal(sparse, part.IsSparse);
                Assert.Equal(5, part.Features);
                for (int i = 0; i < part.Rows; i++)
                {
                    int r = (int)part.Labels[i];
                    Assert.True(seen.Add(r));
                    float[] expected = Enumerable.Range(0, 5).Select(j => (r + j) % 3 != 0 ? r + (j * 0.25f) : 0f).ToArray();
                    Assert.Equal(expected, DenseOf(part, i));
                }
            }

            Assert.Equal(500, seen.Count);
            Assert.Equal(500, summary.TotalRows);
            Assert.Equal(500, summary.RowsPerPartition.Sum() + summary.ValidationRows);
        }
    }

    [Fact]
    public void Run_ValidationFraction_WithinStatisticalBound()
    {
        const int rows = 20_000;
        var summary = Run(Higgs(rows, 3, seed: 5), new PartitionOptions(5, 0.25, 99), "v");

        // Binomial(20000, 0.25): sd ≈ 61; five standard deviations ≈ 306.
        Assert.InRange(summary.ValidationRows, 5000 - 306, 5000 + 306);
        Assert.Equal(rows, summary.TotalRows);
        Assert.Equal(rows, summary.RowsPerPartition.Sum() + summary.ValidationRows);
        foreach (long count in summary.RowsPerPartition)
        {
            // Binomial(15000, 0.2)-ish: sd ≈ 49.
            Assert.InRange(count, 3000 - 300, 3000 + 300);
        }

        Assert.Equal(summary.ValidationRows, Load("v/validation.part").Rows);
    }

    [Fact]
    public void Run_FeaturesNotGiven_DiscoveredFromLargestIndex()
    {
        var summary = Run("1 2:1\n0 17:3\n1 5:1\n0 1:1\n"u8.ToArray(), new PartitionOptions(1, 0, 1), "f");

        Assert.Equal(17, summary.Features);
        Partition part = Load("f/0.part");
        Assert.Equal(17, part.Features);
        Assert.Equal(4 * 17, part.Dense!.Length);
    }

    [Fact]
    public void Run_IndexBeyondFeatures_ThrowsNamingLineAndFix()
    {
        var ex = Assert.Throws<DatasetFormatException>(() =>
            Run("1 2:1\n# c\n0 9:3\n"u8.ToArray(), new PartitionOptions(1, 0, 1, Features: 4), "x"));
        Assert.StartsWith("data.libsvm:3: ", ex.Message);
        Assert.Contains("set dataset.features to 9 or more", ex.Message);
    }

    [Fact]
    public void Run_CsvWithHeader_DensePartitionsFromColumns()
    {
        byte[] csv = "label,a,b,c\n1,0.5,0,2\n0,1,1,1\n1,0,0,0\n0,3,2,1\n"u8.ToArray();
        var summary = Run(csv, new PartitionOptions(2, 0, 3, CsvHeader: true), "csv", DatasetFormat.Csv);

        Assert.Equal(3, summary.Features);
        Assert.Equal(4, summary.TotalRows);
        var all = PartNames(2).Select(n => Load("csv/" + n)).ToList();
        Assert.Equal(4, all.Sum(p => p.Rows));
        Assert.Contains(all, p => Enumerable.Range(0, p.Rows).Any(i => p.DenseRow(i).SequenceEqual([0.5f, 0f, 2f])));
    }

    [Fact]
    public void Run_CsvWiderThanFeatures_ThrowsWithFix()
    {
        var ex = Assert.Throws<DatasetFormatException>(() =>
            Run("1,1,2,3\n"u8.ToArray(), new PartitionOptions(1, 0, 3, Features: 2), "w", DatasetFormat.Csv));
        Assert.Contains("set dataset.features to 3 or more", ex.Message);
    }

    [Fact]
    public void Run_MinusOnePlusOneLabels_MappedToZeroOne()
    {
        Run("-1 1:1\n+1 1:2\n-1 1:3\n"u8.ToArray(), new PartitionOptions(1, 0, 1), "pm");
        Partition part = Load("pm/0.part");
        Assert.Equal([0f, 1f, 0f], part.Labels);
    }

    [Theory]
    [InlineData("1 1:1\n2 1:1\n", 2, "not binary")]
    [InlineData("1 1:1\n0 1:1\n-1 1:1\n", 3, "mix 0 (line 2) and -1 (line 3)")]
    public void Run_NonBinaryLabels_ThrowsNamingLine(string text, int line, string expected)
    {
        var ex = Assert.Throws<DatasetFormatException>(() => Run(Encoding.ASCII.GetBytes(text), new PartitionOptions(1, 0, 1), "l"));
        Assert.StartsWith($"data.libsvm:{line}: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Run_TooFewRowsForPartitions_ThrowsClearly()
    {
        var ex = Assert.Throws<ArgumentException>(() => Run("1 1:1\n0 1:2\n1 1:1\n"u8.ToArray(), new PartitionOptions(8, 0, 1), "few"));
        Assert.Contains("received no rows", ex.Message);
        Assert.Contains("fewer partitions", ex.Message);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_root, "few")));
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(2, 1.0)]
    [InlineData(2, -0.1)]
    public void Run_InvalidOptions_ThrowsNamingField(int partitions, double validation)
    {
        var ex = Assert.Throws<ArgumentException>(() => Run("1 1:1\n"u8.ToArray(), new PartitionOptions(partitions, validation, 1), "o"));
        Assert.Contains("dataset.", ex.Message);
    }

    [Fact]
    public void Run_ManyPartitions_SpillsReopenedPerFlushStillConserveRows()
    {
        var summary = Run(Higgs(3000, 2, seed: 8), new PartitionOptions(150, 0.1, 4, Sparse: true), "many");

        Assert.Equal(3000, summary.RowsPerPartition.Sum() + summary.ValidationRows);
        Assert.All(summary.RowsPerPartition, count => Assert.True(count > 0));
        Assert.Equal(summary.RowsPerPartition[149], Load("many/149.part").Rows);
    }

    private PartitionSummary Run(byte[] data, PartitionOptions options, string folder, DatasetFormat format = DatasetFormat.LibSvm) =>
        Partitioner.Run(
            () => new MemoryStream(data),
            format == DatasetFormat.Csv ? "data.csv" : "data.libsvm",
            format,
            options,
            Path.Combine(_root, folder));

    private Partition Load(string relative) => Partition.Decode(File.ReadAllBytes(Path.Combine(_root, relative)), relative);

    private static IEnumerable<string> PartNames(int partitions) =>
        Enumerable.Range(0, partitions).Select(p => p + ".part").Append("validation.part");

    private static float[] DenseOf(Partition part, int row)
    {
        if (!part.IsSparse)
        {
            return part.DenseRow(row).ToArray();
        }

        var dense = new float[part.Features];
        for (int k = part.RowOffsets![row]; k < part.RowOffsets[row + 1]; k++)
        {
            dense[part.Indices![k]] = part.Values![k];
        }

        return dense;
    }

    internal static byte[] Higgs(long rows, int features, ulong seed)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        SyntheticData.WriteHiggsLike(writer, rows, features, seed);
        return Encoding.ASCII.GetBytes(writer.ToString());
    }
}
