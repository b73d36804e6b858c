using System.Text;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public sealed class PartitionWeightsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-weights-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private PartitionSummary Run(string text, PartitionOptions options) =>
        Partitioner.Run(() => new MemoryStream(Encoding.UTF8.GetBytes(text)), "blobs.libsvm", DatasetFormat.LibSvm, options, _root);

    private static string Blobs(int rows)
    {
        using var writer = new StringWriter();
        SyntheticData.WriteBlobs(writer, rows, 2, 5, seed: 3);
        return writer.ToString();
    }

    [Fact]
    public void Run_PartitionWeights_SizesFollowTheWeights()
    {
        var summary = Run(Blobs(20_000), new PartitionOptions(3, 0.1, 7, Labels: LabelMapping.Raw, PartitionWeights: [1, 3, 6]));

        // Shares 0.1, 0.3, 0.6 of about 18,000 training rows; binomial sd ≤ 66, bound ±330.
        var train = summary.RowsPerPartition.Sum();
        Assert.InRange(summary.RowsPerPartition[0], 0.1 * train - 330, 0.1 * train + 330);
        Assert.InRange(summary.RowsPerPartition[1], 0.3 * train - 330, 0.3 * train + 330);
        Assert.InRange(summary.RowsPerPartition[2], 0.6 * train - 330, 0.6 * train + 330);
    }

    [Fact]
    public void Run_RawLabels_KeepsClusterIds()
    {
        Run(Blobs(500), new PartitionOptions(1, 0, 7, Labels: LabelMapping.Raw));

        var labels = Partition.Decode(File.ReadAllBytes(Path.Combine(_root, "0.part")), "0.part").Labels;
        Assert.Equal([0f, 1f, 2f, 3f, 4f], labels.Distinct().Order());
    }

    [Theory]
    [InlineData(new[] { 1.0, 2.0 })]
    [InlineData(new[] { 1.0, 0.0, 1.0 })]
    public void Run_BadPartitionWeights_NamesTheField(double[] weights)
    {
        var error = Assert.Throws<ArgumentException>(() => Run(Blobs(10), new PartitionOptions(3, 0, 7, Labels: LabelMapping.Raw, PartitionWeights: weights)));
        Assert.Contains("dataset.partitionWeights", error.Message);
    }
}
