using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace StepML.Infra;

// Starts a training run when a job spec (jobs/*.json) or a dataset (datasets/...) is
// uploaded. The EventBridge "Object Created" event itself is the execution input; Prepare reads
// detail.bucket.name and detail.object.key.
internal sealed class UploadTrigger : Construct
{
    public const string JobPattern = "jobs/*.json";
    public const string DatasetPrefix = "datasets/";

    public Rule Rule { get; }

    public UploadTrigger(Construct scope, string id, IBucket bucket, IStateMachine stateMachine) : base(scope, id)
    {
        Rule = new Rule(this, "Rule", new RuleProps
        {
            Description = "StepML: start a training run when a job spec or a dataset is uploaded",
            EventPattern = new EventPattern
            {
                Source = ["aws.s3"],
                DetailType = ["Object Created"],
                Detail = new Dictionary<string, object>
                {
                    ["bucket"] = new Dictionary<string, object> { ["name"] = new[] { bucket.BucketName } },
                    ["object"] = new Dictionary<string, object>
                    {
                        // CDK 2.160 has no Match.wildcard; EventBridge's wildcard filter expresses "prefix and suffix".
                        ["key"] = new object[]
                        {
                            new Dictionary<string, object> { ["wildcard"] = JobPattern },
                            new Dictionary<string, object> { ["prefix"] = DatasetPrefix },
                        },
                        // Zero-byte objects (console "folders", empty files) start nothing.
                        ["size"] = new object[] { new Dictionary<string, object> { ["numeric"] = new object[] { ">", 0 } } },
                    },
                },
            },
        });
        Rule.AddTarget(new SfnStateMachine(stateMachine));
    }
}
