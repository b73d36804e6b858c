using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.IAM;
using Constructs;

namespace StepML.Infra;

// The run ledger (DESIGN.md, "One owner per run"): one DynamoDB table, key pk (a string), on demand, retained with
// the data when the stack is deleted. Only the steps that claim, hand over, fence or finish a run reach it, each
// with exactly the item actions it needs: conditional PutItem (attribute_not_exists / version = :expected) needs
// dynamodb:PutItem, reads are strongly consistent GetItem. Worker and Merge have no access.
internal sealed class RunLedgerTable : Construct
{
    public const string LedgerVariable = "STEPML_LEDGER";

    // Which functions use the ledger, and whether they write to it.
    public static readonly IReadOnlyDictionary<string, bool> Users = new Dictionary<string, bool>
    {
        ["Prepare"] = true,        // claims a run, hands it over on continue-as-new, takes it over on resume; claims events once
        ["Decide"] = false,        // checks its execution still owns the run before writing a round
        ["Finalize"] = true,       // marks the run finished
        ["RecordFailure"] = true,  // marks the run failed
    };

    public Table Table { get; }

    public RunLedgerTable(Construct scope, string id) : base(scope, id)
    {
        Table = new Table(this, "Table", new TableProps
        {
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = "pk", Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            PointInTimeRecovery = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
    }

    public string Uri => "dynamodb://" + Table.TableName;

    /// <summary>Grants the function its ledger actions and returns true when it uses the ledger.</summary>
    public bool GrantTo(string function, IGrantable grantee)
    {
        if (!Users.TryGetValue(function, out var writes)) return false;
        Table.Grant(grantee, writes ? ["dynamodb:GetItem", "dynamodb:PutItem"] : ["dynamodb:GetItem"]);
        return true;
    }
}
