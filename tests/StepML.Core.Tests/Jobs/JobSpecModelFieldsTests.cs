using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class JobSpecModelFieldsTests
{
    private static JobSpec Parse(string dataset = "", string model = "", string algorithm = "") => JobSpecParser.Parse(
        $$"""{ "dataset": { "path": "datasets/x.libsvm" {{dataset}} }, "model": { "type": "logistic" {{model}} }, "algorithm": { "type": "admm" {{algorithm}} } }""");

    [Fact]
    public void Parse_Defaults_AreDenseHingeEightClustersEqualPartitions()
    {
        var spec = Parse();

        Assert.False(spec.Dataset.Sparse);
        Assert.Null(spec.Dataset.PartitionWeights);
        Assert.Equal("hinge", spec.Model.Loss);
        Assert.Equal(8, spec.Model.Clusters);
    }

    [Fact]
    public void ToJson_NewFields_RoundTrip()
    {
        var spec = JobSpecParser.Parse("""
            { "dataset": { "path": "datasets/x.libsvm", "sparse": true, "partitions": 3, "partitionWeights": [1, 2.5, 4] },
              "model": { "type": "kmeans", "clusters": 12 }, "algorithm": { "type": "kmeans-em" } }
            """);

        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));

        Assert.True(again.Dataset.Sparse);
        Assert.Equal([1, 2.5, 4], again.Dataset.PartitionWeights!);
        Assert.Equal(12, again.Model.Clusters);
        Assert.Equal("kmeans-em", again.Algorithm.Type);
    }

    [Theory]
    [InlineData(", \"loss\": \"hinj\"", "", "model.loss")]
    [InlineData(", \"clusters\": 0", "", "model.clusters")]
    [InlineData("", ", \"type\": \"kmeans-em\"", "algorithm.type")]
    public void Parse_BadModelField_NamesIt(string model, string algorithm, string field)
    {
        var json = $$"""{ "dataset": { "path": "d.libsvm" }, "model": { "l2": 0 {{model}} }, "algorithm": { "rho": 1 {{algorithm}} } }""";

        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Parse_KMeansWithGradientAlgorithm_SaysToUseKMeansEm()
    {
        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(
            """{ "dataset": { "path": "d.libsvm" }, "model": { "type": "kmeans" }, "algorithm": { "type": "ma-sgd" } }"""));

        Assert.Equal("algorithm.type", error.Field);
        Assert.Contains("kmeans-em", error.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "dataset.partitionWeights")]
    [InlineData("[1, 2, -1, 4]", "dataset.partitionWeights")]
    [InlineData("[1, \"a\", 3, 4]", "dataset.partitionWeights[1]")]
    [InlineData("3", "dataset.partitionWeights")]
    public void Parse_BadPartitionWeights_NamesTheField(string weights, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(
            $$"""{ "dataset": { "path": "d.libsvm", "partitions": 4, "partitionWeights": {{weights}} } }"""));

        Assert.Equal(field, error.Field);
    }
}
