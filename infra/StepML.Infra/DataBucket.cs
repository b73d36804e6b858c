using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace StepML.Infra;

// The one bucket for datasets, job specs and runs (layout in DESIGN.md). Data outlives the stack:
// the bucket is retained on deletion. Round statistics are scratch: the storage layer tags them
// stepml:kind=statistic and a lifecycle rule expires them.
internal sealed class DataBucket : Construct
{
    public const string StatisticTagKey = "stepml:kind";
    public const string StatisticTagValue = "statistic";

    public Bucket Bucket { get; }

    public DataBucket(Construct scope, string id, InfraSettings settings) : base(scope, id)
    {
        var expiry = Duration.Days(settings.StatisticsExpiryDays);
        Bucket = new Bucket(this, "Bucket", new BucketProps
        {
            Encryption = BucketEncryption.S3_MANAGED,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            EnforceSSL = true,
            Versioned = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
            LifecycleRules =
            [
                new LifecycleRule
                {
                    Id = "ExpireRoundStatistics",
                    TagFilters = new Dictionary<string, object> { [StatisticTagKey] = StatisticTagValue },
                    Expiration = expiry,
                },
                new LifecycleRule
                {
                    Id = "ExpireNoncurrentVersions",
                    NoncurrentVersionExpiration = expiry,
                    ExpiredObjectDeleteMarker = true,
                    AbortIncompleteMultipartUploadAfter = Duration.Days(1),
                },
            ],
        });

        // Object Created events go to EventBridge (the upload trigger). Set on the CloudFormation resource
        // itself: BucketProps.EventBridgeEnabled would add a custom-resource Lambda whose role may call
        // s3:PutBucketNotification on every bucket ("*").
        ((CfnBucket)Bucket.Node.DefaultChild!).AddPropertyOverride(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", true);
    }

    // Grants exactly the object actions a function's catalog entry lists; no wildcard actions.
    public void GrantAccess(IGrantable grantee, FunctionSpec function)
    {
        if (function.Reads.Count > 0)
        {
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = ["s3:GetObject"],
                Resources = function.Reads.Select(Bucket.ArnForObjects).ToArray(),
            }));
            // Listing (and so telling a missing key from a forbidden one) only under the prefixes it reads.
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = ["s3:ListBucket"],
                Resources = [Bucket.BucketArn],
                Conditions = new Dictionary<string, object>
                {
                    ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = function.Reads.ToArray() },
                },
            }));
        }
        if (function.Writes.Count > 0)
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = ["s3:PutObject"],
                Resources = function.Writes.Select(Bucket.ArnForObjects).ToArray(),
            }));
        if (function.TaggedWrites.Count > 0)
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                // PutObject with an x-amz-tagging header is authorised as PutObject plus PutObjectTagging.
                Actions = ["s3:PutObjectTagging"],
                Resources = function.TaggedWrites.Select(Bucket.ArnForObjects).ToArray(),
            }));
        if (function.DeleteKeys.Count > 0)
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = ["s3:DeleteObject"],
                Resources = function.DeleteKeys.Select(Bucket.ArnForObjects).ToArray(),
            }));
    }
}
