using Amazon.DynamoDBv2;
using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

/// <summary>npm's dynalite (a DynamoDB server, in memory) on a free loopback port, with the channel table created as
/// the CDK stack creates it: partition key <c>key</c>, sort key <c>offset</c>.</summary>
public sealed class DynaliteFixture : IDisposable
{
    public const string Table = "stepml-channel";
    private readonly LocalChannelServer _server;

    public DynaliteFixture()
    {
        _server = LocalChannelServer.StartDynalite(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException($"no node_modules/dynalite above {AppContext.BaseDirectory}: the DynamoDB channel tests run against npm's dynalite; run `npm ci` first");
        ServiceUrl = new Uri($"http://127.0.0.1:{_server.Port}");
        Client = DynamoDbChannel.CreateClient(ServiceUrl);
        DynamoDbChannel.CreateTableAsync(Client, Table).GetAwaiter().GetResult();
    }

    public Uri ServiceUrl { get; }

    public IAmazonDynamoDB Client { get; }

    /// <summary><c>http://127.0.0.1:port/table</c>, as communication.endpoint names it.</summary>
    public string Endpoint => $"{ServiceUrl.OriginalString}/{Table}";

    public void Dispose()
    {
        Client.Dispose();
        _server.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DynaliteCollection : ICollectionFixture<DynaliteFixture>
{
    public const string Name = "dynalite-channel";
}
