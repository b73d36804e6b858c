using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class JobSpecSynchronizationTests
{
    private static JobSpec Parse(string algorithm, string communication) => JobSpecParser.Parse(
        $$"""{ "dataset": { "path": "d.libsvm" }, "model": { "type": "logistic" }, "algorithm": { "type": "{{algorithm}}" }, "communication": {{communication}} }""");

    [Theory]
    [InlineData("ga-sgd")]
    [InlineData("ma-sgd")]
    public void Parse_AsyncWithGradientAlgorithm_IsAsyncAndRoundTrips(string algorithm)
    {
        var spec = Parse(algorithm, """{ "synchronization": "async" }""");

        Assert.True(spec.Communication.IsAsync);
        Assert.Equal(spec, JobSpecParser.Parse(JobSpecParser.ToJson(spec)));
    }

    [Fact]
    public void Parse_NoSynchronization_IsSync()
    {
        Assert.False(Parse("ga-sgd", "{}").Communication.IsAsync);
    }

    [Theory]
    [InlineData("admm", """{ "synchronization": "async" }""", "\"ga-sgd\" or \"ma-sgd\"")]
    [InlineData("newton", """{ "synchronization": "async" }""", "\"ga-sgd\" or \"ma-sgd\"")]
    [InlineData("ga-sgd", """{ "synchronization": "async", "pattern": "scatter-reduce", "shards": 2 }""", "all-reduce")]
    [InlineData("ga-sgd", """{ "synchronization": "async", "pattern": "tree", "fanIn": 2 }""", "all-reduce")]
    [InlineData("ga-sgd", """{ "synchronization": "async", "dropRate": 0.1 }""", "dropRate")]
    [InlineData("ga-sgd", """{ "synchronization": "asynchronous" }""", "\"sync\", \"async\"")]
    public void Parse_AsyncThatCannotWork_NamesSynchronizationAndTheFix(string algorithm, string communication, string fix)
    {
        var error = Assert.Throws<JobSpecException>(() => Parse(algorithm, communication));

        Assert.Equal("communication.synchronization", error.Field);
        Assert.Contains(fix, error.Message);
    }

    [Fact]
    public void Parse_AsyncKMeans_NamesSynchronization()
    {
        var error = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(
            """{ "dataset": { "path": "d.libsvm" }, "model": { "type": "kmeans", "clusters": 3 }, "algorithm": { "type": "kmeans-em" }, "communication": { "synchronization": "async" } }"""));

        Assert.Equal("communication.synchronization", error.Field);
    }
}
