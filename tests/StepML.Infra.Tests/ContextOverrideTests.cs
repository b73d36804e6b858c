using Amazon.CDK.Assertions;

namespace StepML.Infra.Tests;

// A second synthesis with every option changed, to prove the options reach the template.
public sealed class ContextOverrideTests
{
    [Fact]
    public void Synthesis_WithContextOverrides_AppliesThemToTheTemplate()
    {
        using var stack = new SynthesizedStack(new Dictionary<string, object>
        {
            ["stepml:architecture"] = "arm64",
            ["stepml:workerMemoryMb"] = "3008",
            ["stepml:workerTimeoutSeconds"] = "200",
            ["stepml:maxConcurrency"] = "25",
            ["stepml:toleratedFailurePercentage"] = "5",
            ["stepml:logRetentionDays"] = "7",
            ["stepml:statisticsExpiryDays"] = "3",
        });

        stack.Template.AllResourcesProperties("AWS::Lambda::Function", new Dictionary<string, object> { ["Architectures"] = new[] { "arm64" } });
        stack.Template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Handler"] = "StepML.Functions::StepML.Functions.WorkerFunction::HandleAsync",
            ["MemorySize"] = 3008,
            ["Timeout"] = 200,
            ["Environment"] = new Dictionary<string, object>
            {
                ["Variables"] = Match.ObjectLike(new Dictionary<string, object>
                {
                    ["STEPML_MAX_CONCURRENCY"] = "25",
                    ["STEPML_TOLERATED_FAILURE_PERCENTAGE"] = "5",
                    ["STEPML_ARCHITECTURE"] = "arm64",
                    // A lower worker timeout lowers the round budget with it (0.75 of 200 s).
                    ["STEPML_WORKER_ROUND_SECONDS"] = "150",
                }),
            },
        });
        stack.Template.AllResourcesProperties("AWS::Logs::LogGroup", new Dictionary<string, object> { ["RetentionInDays"] = 7 });
        stack.Template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["LifecycleConfiguration"] = new Dictionary<string, object>
            {
                ["Rules"] = Match.ArrayWith(new object[]
                {
                    Match.ObjectLike(new Dictionary<string, object> { ["Id"] = "ExpireRoundStatistics", ["ExpirationInDays"] = 3 }),
                    Match.ObjectLike(new Dictionary<string, object>
                    {
                        ["Id"] = "ExpireNoncurrentVersions",
                        ["NoncurrentVersionExpiration"] = new Dictionary<string, object> { ["NoncurrentDays"] = 3 },
                    }),
                }),
            },
        });
    }
}
