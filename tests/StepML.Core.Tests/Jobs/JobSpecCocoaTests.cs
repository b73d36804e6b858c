using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class JobSpecCocoaTests
{
    private static JobSpec Parse(string model = "\"type\": \"logistic\"", string communication = "", string stop = "", string workers = "") => JobSpecParser.Parse(
        $$"""{ "dataset": { "path": "datasets/x.libsvm", "features": 47236 }, "model": { {{model}} }, "algorithm": { "type": "cocoa", "localEpochs": 2 }, "communication": { "channel": "s3" {{communication}} }, "stop": { "maxRounds": 10 {{stop}} }, "workers": { "memoryMb": 2048 {{workers}} } }""");

    [Theory]
    [InlineData("\"type\": \"logistic\"", "")]
    [InlineData("\"type\": \"svm\"", ", \"pattern\": \"scatter-reduce\", \"shards\": 4")]
    [InlineData("\"type\": \"svm\", \"loss\": \"squared-hinge\"", ", \"pattern\": \"tree\", \"fanIn\": 2")]
    public void Parse_CocoaWithStopGapManyFeaturesAndShards_RoundTrips(string model, string communication)
    {
        var spec = Parse(model, communication, stop: ", \"gap\": 1e-3");

        var again = JobSpecParser.Parse(JobSpecParser.ToJson(spec));

        Assert.Equal("cocoa", again.Algorithm.Type);
        Assert.Equal(1e-3, again.Stop.Gap);
        Assert.Equal(47236, again.Dataset.Features);
    }

    [Theory]
    [InlineData("\"type\": \"softmax\"", "", "", "model.type")]
    [InlineData("\"type\": \"logistic\", \"l2\": 0", "", "", "model.l2")]
    [InlineData("\"type\": \"logistic\", \"l1\": 1e-3", "", "", "model.l1")]
    [InlineData("\"type\": \"logistic\"", ", \"dropRate\": 0.1", "", "communication.dropRate")]
    [InlineData("\"type\": \"logistic\"", "", ", \"toleratedFailurePercentage\": 25", "workers.toleratedFailurePercentage")]
    public void Parse_InvalidCocoa_NamesTheField(string model, string communication, string workers, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => Parse(model, communication, workers: workers));

        Assert.Equal(field, error.Field);
    }
}
