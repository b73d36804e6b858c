using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class ChannelEndpointTests
{
    private static string Job(string channel, string endpoint) =>
        $$"""{ "dataset": { "path": "d" }, "communication": { "channel": "{{channel}}", "endpoint": "{{endpoint}}" } }""";

    [Theory]
    [InlineData("127.0.0.1:6379", "127.0.0.1", 6379, false)]
    [InlineData("redis://cache.local:7000", "cache.local", 7000, false)]
    [InlineData("rediss://abc.serverless.use1.cache.amazonaws.com:6379", "abc.serverless.use1.cache.amazonaws.com", 6379, true)]
    public void Parse_RedisHostPort_ReadsHostPortAndTls(string text, string host, int port, bool tls)
    {
        var endpoint = ChannelEndpoint.Parse(ChannelKinds.Redis, text);

        Assert.Equal((host, port, tls), (endpoint.Host, endpoint.Port, endpoint.Tls));
    }

    [Fact]
    public void Parse_DynamoDbTableName_UsesTheRegionalEndpoint()
    {
        var endpoint = ChannelEndpoint.Parse(ChannelKinds.DynamoDb, "stepml-channel");

        Assert.Null(endpoint.ServiceUrl);
        Assert.Equal("stepml-channel", endpoint.Table);
    }

    [Fact]
    public void Parse_DynamoDbUrlWithTable_SplitsServerAndTable()
    {
        var endpoint = ChannelEndpoint.Parse(ChannelKinds.DynamoDb, "http://127.0.0.1:4567/chan");

        Assert.Equal(new Uri("http://127.0.0.1:4567"), endpoint.ServiceUrl);
        Assert.Equal("chan", endpoint.Table);
        Assert.Equal("http://127.0.0.1:4567/chan", endpoint.ToString());
    }

    [Theory]
    [InlineData("redis", "localhost", "host:port")]
    [InlineData("redis", "127.0.0.1:0", "host:port")]
    [InlineData("redis", "127.0.0.1:99999", "host:port")]
    [InlineData("redis", ":6379", "host:port")]
    [InlineData("dynamodb", "ab", "table name")]
    [InlineData("dynamodb", "my table", "table name")]
    [InlineData("dynamodb", "http://127.0.0.1:4567", "names no valid table")]
    [InlineData("dynamodb", "ftp://127.0.0.1:4567/t-1", "server URL")]
    [InlineData("s3", "127.0.0.1:9000", "leave the endpoint out")]
    public void Parse_JobWithBadEndpoint_NamesTheFieldAndTheForm(string channel, string endpoint, string hint)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Job(channel, endpoint)));

        Assert.Equal("communication.endpoint", e.Field);
        Assert.Contains($"'{endpoint}'", e.Message);
        Assert.Contains(hint, e.Message);
    }

    [Theory]
    [InlineData("redis", "")]
    [InlineData("dynamodb", "")]
    [InlineData("redis", "127.0.0.1:6379")]
    [InlineData("dynamodb", "http://localhost:8000/stepml-channel")]
    public void Parse_JobWithChannelAndEndpoint_Accepted(string channel, string endpoint)
    {
        var spec = JobSpecParser.Parse(Job(channel, endpoint));

        Assert.Equal((channel, endpoint), (spec.Communication.Channel, spec.Communication.Endpoint));
    }

    [Fact]
    public void Parse_JobWithUnknownChannel_SuggestsTheClosest()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Job("dynamo", "")));

        Assert.Equal("communication.channel", e.Field);
        Assert.Contains("did you mean \"dynamodb\"", e.Message);
    }
}
