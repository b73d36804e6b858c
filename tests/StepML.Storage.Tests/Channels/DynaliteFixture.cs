using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

/// <summary>npm's dynalite (a DynamoDB server, in memory) on a free loopback port, with the channel table created as
/// the CDK stack creates it: partition key <c>key</c>, sort key <c>offset</c>.</summary>
public sealed class DynaliteFixture : IDisposable
{
    public const string Table = "stepml-channel";
    private readonly LocalServer _server;

    public DynaliteFixture()
    {
        var script = Path.Combine(LocalServer.RepositoryRoot(), "node_modules", "dynalite", "cli.js");
        if (!File.Exists(script))
            throw new InvalidOperationException($"{script} is missing: the DynamoDB channel tests run against npm's dynalite; run `npm ci` first");
        _server = LocalServer.Start("dynalite", "node", port => [script, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host", "127.0.0.1"]);
        ServiceUrl = new Uri($"http://127.0.0.1:{_server.Port}");
        Client = DynamoDbChannel.CreateClient(ServiceUrl);
        CreateTableAsync(Client, Table).GetAwaiter().GetResult();
    }

    public Uri ServiceUrl { get; }

    public IAmazonDynamoDB Client { get; }

    /// <summary><c>http://127.0.0.1:port/table</c>, as communication.endpoint names it.</summary>
    public string Endpoint => $"{ServiceUrl.OriginalString}/{Table}";

    public static async Task CreateTableAsync(IAmazonDynamoDB client, string table)
    {
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new(DynamoDbChannel.KeyAttribute, ScalarAttributeType.S), new(DynamoDbChannel.OffsetAttribute, ScalarAttributeType.N)],
            KeySchema = [new(DynamoDbChannel.KeyAttribute, KeyType.HASH), new(DynamoDbChannel.OffsetAttribute, KeyType.RANGE)],
        }).ConfigureAwait(false);
        // dynalite, like DynamoDB, creates tables asynchronously.
        for (var i = 0; i < 100; i++)
        {
            var description = await client.DescribeTableAsync(table).ConfigureAwait(false);
            if (description.Table.TableStatus == TableStatus.ACTIVE) return;
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new TimeoutException($"table {table} did not become ACTIVE");
    }

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
