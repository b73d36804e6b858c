using Amazon.CDK.AWS.DynamoDB;
using Constructs;
using Attribute = Amazon.CDK.AWS.DynamoDB.Attribute;

namespace StepML.Infra;

// The DynamoDB channel's table (communication.channel "dynamodb"): statistics and merged shards as chunks keyed by
// (key, offset), on-demand, items expiring by the expiresAt TTL attribute. Each function gets exactly the calls its
// channel code makes (Worker writes; Merge and Decide read with Query and write or delete in batches), and the table's
// name in STEPML_CHANNEL_TABLE, the default for jobs that name no endpoint.
internal sealed class ChannelTable : Construct
{
    public const string TableVariable = "STEPML_CHANNEL_TABLE";

    // Actions per function, from StepML.Storage.Channels.DynamoDbChannel: PutAsync is BatchWriteItem; GetAsync and
    // GetRangeAsync are Query; DeleteRoundAsync and DeleteAsync are Query + BatchWriteItem. Asynchronous training
    // (AtomicModel) adds the register: ReadRegisterAsync is GetItem, TryWriteRegisterAsync a conditional PutItem; its
    // workers read, write and delete model versions, and Decide reads the register and the final version.
    public static readonly IReadOnlyDictionary<string, string[]> Actions = new Dictionary<string, string[]>
    {
        [FunctionCatalog.Worker] = ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
        ["Merge"] = ["dynamodb:BatchWriteItem", "dynamodb:Query"],
        ["Decide"] = ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:Query"],
    };

    public Table Table { get; }

    public ChannelTable(Construct scope, string id, TrainingFunctions functions) : base(scope, id)
    {
        Table = new Table(this, "Table", new TableProps
        {
            PartitionKey = new Attribute { Name = "key", Type = AttributeType.STRING },
            SortKey = new Attribute { Name = "offset", Type = AttributeType.NUMBER },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            TimeToLiveAttribute = "expiresAt",
            Encryption = TableEncryption.AWS_MANAGED,
        });
        foreach (var (name, actions) in Actions)
            Table.Grant(functions.ByName[name].Role!, actions);
        foreach (var function in functions.ByName.Values)
            function.AddEnvironment(TableVariable, Table.TableName);
    }
}
