using StepML.Storage.S3;

namespace StepML.Storage.Tests.S3;

public sealed class S3StoreLocationTests
{
    [Theory]
    [InlineData("s3://my-bucket", "my-bucket", "")]
    [InlineData("s3://my-bucket/", "my-bucket", "")]
    [InlineData("s3://my.bucket/teams/ml/", "my.bucket", "teams/ml")]
    public void Parse_BucketAndPrefix_AreSplitAtTheFirstSlash(string uri, string bucket, string prefix)
    {
        var location = S3StoreLocation.Parse(uri);

        Assert.Equal(bucket, location.Bucket);
        Assert.Equal(prefix, location.Prefix);
        Assert.Null(location.Endpoint);
    }

    [Fact]
    public void Parse_EndpointInQuery_WinsOverTheEnvironment()
    {
        var location = S3StoreLocation.Parse("s3://b1b/p?endpoint=http%3A%2F%2F127.0.0.1%3A4568", "http://other:1");

        Assert.Equal(new Uri("http://127.0.0.1:4568"), location.Endpoint);
    }

    [Fact]
    public void Parse_UnescapedEndpointInQuery_IsAccepted()
    {
        Assert.Equal(new Uri("http://127.0.0.1:9000"), S3StoreLocation.Parse("s3://b1b?endpoint=http://127.0.0.1:9000").Endpoint);
    }

    [Fact]
    public void Parse_NoQuery_UsesTheEnvironmentEndpoint()
    {
        Assert.Equal(new Uri("http://localhost:4568"), S3StoreLocation.Parse("s3://b1b", "http://localhost:4568").Endpoint);
    }

    [Theory]
    [InlineData("s3://B", "not a valid S3 bucket name")]
    [InlineData("s3://", "not a valid S3 bucket name")]
    [InlineData("s3://Upper-Case", "not a valid S3 bucket name")]
    [InlineData("s3://bucket/../x", "'..' segment")]
    [InlineData("s3://bucket?region=eu-west-1", "unknown parameter 'region'")]
    [InlineData("s3://bucket?endpoint=ftp://x", "not an http(s) URL")]
    [InlineData("file:///tmp", "not an S3 URI")]
    public void Parse_Invalid_ThrowsSayingWhatIsWrong(string uri, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => S3StoreLocation.Parse(uri));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://bucket")]
    [InlineData("s3://bucket/a/b")]
    [InlineData("s3://bucket/a?endpoint=http://127.0.0.1:4568")]
    public void ToString_OfParsedUri_ParsesBackToTheSameLocation(string uri)
    {
        var location = S3StoreLocation.Parse(uri);

        Assert.Equal(location, S3StoreLocation.Parse(location.ToString()));
    }

    [Fact]
    public void FullKey_WithAndWithoutPrefix_JoinsWithOneSlash()
    {
        Assert.Equal("runs/x", new S3StoreLocation("b1b", "", null).FullKey("runs/x"));
        Assert.Equal("p/q/runs/x", new S3StoreLocation("b1b", "p/q", null).FullKey("runs/x"));
    }

    [Fact]
    public void ObjectStoresOpen_S3Uri_OpensTheS3StoreAtThatLocation()
    {
        var store = ObjectStores.Open("s3://stepml-data/teams/ml?endpoint=http://127.0.0.1:4568");

        var s3 = Assert.IsType<S3ObjectStore>(store);
        Assert.Equal(new S3StoreLocation("stepml-data", "teams/ml", new Uri("http://127.0.0.1:4568")), s3.Location);
        Assert.Equal("s3://stepml-data/teams/ml?endpoint=http://127.0.0.1:4568", store.Uri);
    }

    [Fact]
    public void ObjectStoresOpen_SameEndpointTwice_SharesOneClient()
    {
        var first = (S3ObjectStore)ObjectStores.Open("s3://bucket-one?endpoint=http://127.0.0.1:4599");
        var second = (S3ObjectStore)ObjectStores.Open("s3://bucket-two?endpoint=http://127.0.0.1:4599");

        Assert.Same(ClientOf(first), ClientOf(second));
    }

    private static object? ClientOf(S3ObjectStore store) =>
        typeof(S3ObjectStore).GetField("_client", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(store);
}
