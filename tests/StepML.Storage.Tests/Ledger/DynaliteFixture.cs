using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using StepML.Storage.Channels;
using StepML.Storage.Ledger;

namespace StepML.Storage.Tests.Ledger;

// A real DynamoDB-protocol server (npm dynalite, from the root package.json) on 127.0.0.1 and a free port, in
// memory, started by LocalChannelServer and stopped by its process id on dispose. Each test gets its own table, shaped like the stack's.
public sealed class DynaliteFixture : IDisposable
{
    private readonly LocalChannelServer _server;
    private int _tables;

    public Uri Endpoint { get; }
    public IAmazonDynamoDB Client { get; }

    public DynaliteFixture()
    {
        // The same launcher the channel tests and the channel benchmark use.
        _server = LocalChannelServer.StartDynalite(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException($"no node_modules/dynalite above {AppContext.BaseDirectory}: the ledger tests run against npm's dynalite; run `npm ci` first");
        Endpoint = new Uri($"http://127.0.0.1:{_server.Port}");
        Client = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), DynamoDbRunLedger.CreateConfig(Endpoint));
    }

    /// <summary>A new table with the stack's key schema (pk, a string; on-demand).</summary>
    public string CreateTable()
    {
        var name = $"ledger-{Interlocked.Increment(ref _tables)}-{Guid.NewGuid():N}"[..24];
        Client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            KeySchema = [new KeySchemaElement("pk", KeyType.HASH)],
            AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        }).GetAwaiter().GetResult();
        // dynalite creates a table asynchronously: wait until it is ACTIVE.
        for (var i = 0; i < 100 && Client.DescribeTableAsync(name).GetAwaiter().GetResult().Table.TableStatus != TableStatus.ACTIVE; i++)
            Thread.Sleep(20);
        return name;
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
    public const string Name = "dynalite";
}
