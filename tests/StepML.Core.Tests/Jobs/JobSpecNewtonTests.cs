using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class JobSpecNewtonTests
{
    private static JobSpec Parse(string model = "\"type\": \"logistic\"", string algorithm = "newton", string communication = "", string stop = "") => JobSpecParser.Parse(
        $$"""{ "dataset": { "path": "datasets/x.libsvm" }, "model": { {{model}} }, "algorithm": { "type": "{{algorithm}}" }, "communication": { "channel": "s3" {{communication}} }, "stop": { "maxRounds": 10 {{stop}} } }""");

    [Fact]
    public void Parse_NewtonWithStopGap_RoundTrips()
    {
        var spec = Parse(stop: ", \"gap\": 1e-4");

        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));

        Assert.Equal("newton", again.Algorithm.Type);
        Assert.Equal(1e-4, again.Stop.Gap);
    }

    [Theory]
    [InlineData("\"type\": \"logistic\"", "admm", "", ", \"gap\": 1e-4", "stop.gap")]
    [InlineData("\"type\": \"logistic\"", "newton", "", ", \"gap\": 0", "stop.gap")]
    [InlineData("\"type\": \"logistic\"", "newton", "", ", \"gap\": 1e-6", "stop.gap")]
    [InlineData("\"type\": \"logistic\"", "newton", ", \"pattern\": \"scatter-reduce\", \"shards\": 2", "", "communication.shards")]
    [InlineData("\"type\": \"svm\"", "newton", "", "", "model.loss")]
    [InlineData("\"type\": \"softmax\"", "newton", "", "", "model.type")]
    [InlineData("\"type\": \"logistic\", \"l2\": 0", "newton", "", "", "model.l2")]
    public void Parse_InvalidNewtonOrGap_NamesTheField(string model, string algorithm, string communication, string stop, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => Parse(model, algorithm, communication, stop));

        Assert.Equal(field, error.Field);
    }
}
