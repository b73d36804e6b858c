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

public sealed class JobSpecDesignSpaceFieldsTests
{
    [Theory]
    [InlineData("""{ "type": "logistic", "l1": -1 }""", "{}", "model.l1")]
    [InlineData("""{ "type": "kmeans", "l1": 0.1 }""", """{ "type": "kmeans-em" }""", "model.l1")]
    public void Parse_BadL1_NamesTheField(string model, string algorithm, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(
            $$"""{ "dataset": { "path": "d.libsvm" }, "model": {{model}}, "algorithm": {{algorithm}} }"""));

        Assert.Equal(field, error.Field);
    }

    [Theory]
    [InlineData("""{ "dropRate": 1 }""", "communication.dropRate")]
    [InlineData("""{ "dropRate": -0.1 }""", "communication.dropRate")]
    [InlineData("""{ "fanIn": 2 }""", "communication.fanIn")]
    [InlineData("""{ "pattern": "tree" }""", "communication.fanIn")]
    [InlineData("""{ "pattern": "tree", "fanIn": 2, "shards": 2 }""", "communication.shards")]
    public void Parse_BadCommunication_NamesTheField(string communication, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(
            $$"""{ "dataset": { "path": "d.libsvm" }, "communication": {{communication}} }"""));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void ToJson_DesignSpaceFields_RoundTrip()
    {
        var spec = JobSpecParser.Parse("""
            { "dataset": { "path": "d.libsvm" }, "model": { "type": "svm", "l1": 0.01 },
              "communication": { "pattern": "tree", "fanIn": 3, "dropRate": 0.3 } }
            """);

        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));

        Assert.Equal(0.01, again.Model.L1);
        Assert.Equal("tree", again.Communication.Pattern);
        Assert.Equal(3, again.Communication.FanIn);
        Assert.Equal(0.3, again.Communication.DropRate);
        Assert.Equal(spec, again);
    }
}
