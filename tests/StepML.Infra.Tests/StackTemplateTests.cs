using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.CDK.Assertions;
using Match = Amazon.CDK.Assertions.Match;
using StepML.Infra;

namespace StepML.Infra.Tests;

public sealed partial class StackTemplateTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private string BucketId => stack.Resources("AWS::S3::Bucket").Single().LogicalId;
    private string StateMachineId => stack.Resources("AWS::StepFunctions::StateMachine").Single(r => r.LogicalId.StartsWith("Training", StringComparison.Ordinal)).LogicalId;

    [Fact]
    public void Functions_EveryCatalogEntry_IsOneDotnet10FunctionWithItsHandler()
    {
        stack.Template.ResourceCountIs("AWS::Lambda::Function", FunctionCatalog.All.Count + 1);
        foreach (var function in FunctionCatalog.All.Append(FunctionCatalog.Search))
            stack.Template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
            {
                ["Runtime"] = "dotnet10",
                ["Handler"] = $"StepML.Functions::StepML.Functions.{function.Name}Function::HandleAsync",
                ["Architectures"] = new[] { "x86_64" },
                ["MemorySize"] = function.DefaultMemoryMb,
                ["Timeout"] = function.DefaultTimeoutSeconds,
                ["EphemeralStorage"] = new Dictionary<string, object> { ["Size"] = function.EphemeralStorageMb },
            });
    }

    [Fact]
    public void Handlers_EveryFunction_NamesPublicHandleAsyncOfTheFunctionsAssembly()
    {
        var assembly = Assembly.Load(new AssemblyName(RepositoryLayout.FunctionsAssembly));
        var handlers = stack.Resources("AWS::Lambda::Function")
            .Select(f => f.Resource.GetProperty("Properties").GetProperty("Handler").GetString()!).ToList();

        Assert.Equal(FunctionCatalog.All.Count + 1, handlers.Distinct().Count());
        foreach (var handler in handlers)
        {
            var parts = handler.Split("::");
            Assert.Equal(3, parts.Length);
            Assert.Equal(assembly.GetName().Name, parts[0]);
            var type = assembly.GetType(parts[1]);
            Assert.True(type is not null, $"handler '{handler}': type {parts[1]} is not in {assembly.Location}");
            var method = type.GetMethod(parts[2], BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)]);
            Assert.True(method is not null, $"handler '{handler}': {parts[1]} has no public instance {parts[2]}(Stream)");
            Assert.Equal(typeof(Task<Stream>), method.ReturnType);
            Assert.True(type.GetConstructor(Type.EmptyTypes) is not null, $"handler '{handler}': Lambda needs a public parameterless constructor");
        }
    }

    [Fact]
    public void Functions_Environment_PointsAtTheBucketAndCarriesJobDefaults()
    {
        stack.Template.AllResourcesProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Environment"] = new Dictionary<string, object>
            {
                ["Variables"] = new Dictionary<string, object>
                {
                    ["STEPML_STORE"] = new Dictionary<string, object>
                    {
                        ["Fn::Join"] = new object[] { "", new object[] { "s3://", new Dictionary<string, object> { ["Ref"] = BucketId } } },
                    },
                    ["STEPML_MAX_CONCURRENCY"] = "100",
                    ["STEPML_TOLERATED_FAILURE_PERCENTAGE"] = "0",
                    ["STEPML_ARCHITECTURE"] = "x86_64",
                },
            },
        });
    }

    [Fact]
    public void Functions_LogGroups_HaveTheConfiguredRetentionAndOutliveTheStack()
    {
        // The training functions' log groups and the training machine's; the Search function's and the search machine's.
        stack.Template.ResourceCountIs("AWS::Logs::LogGroup", FunctionCatalog.All.Count + 3);
        stack.Template.AllResources("AWS::Logs::LogGroup", new Dictionary<string, object>
        {
            ["Properties"] = new Dictionary<string, object> { ["RetentionInDays"] = 30 },
            ["DeletionPolicy"] = "Retain",
        });
    }

    [Fact]
    public void Bucket_DataProtection_EncryptedPrivateVersionedAndRetained()
    {
        stack.Template.ResourceCountIs("AWS::S3::Bucket", 1);
        stack.Template.HasResource("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["DeletionPolicy"] = "Retain",
            ["UpdateReplacePolicy"] = "Retain",
            ["Properties"] = new Dictionary<string, object>
            {
                ["BucketEncryption"] = new Dictionary<string, object>
                {
                    ["ServerSideEncryptionConfiguration"] = new object[]
                    {
                        new Dictionary<string, object>
                        {
                            ["ServerSideEncryptionByDefault"] = new Dictionary<string, object> { ["SSEAlgorithm"] = "AES256" },
                        },
                    },
                },
                ["PublicAccessBlockConfiguration"] = new Dictionary<string, object>
                {
                    ["BlockPublicAcls"] = true, ["BlockPublicPolicy"] = true, ["IgnorePublicAcls"] = true, ["RestrictPublicBuckets"] = true,
                },
                ["VersioningConfiguration"] = new Dictionary<string, object> { ["Status"] = "Enabled" },
                ["NotificationConfiguration"] = new Dictionary<string, object>
                {
                    ["EventBridgeConfiguration"] = new Dictionary<string, object> { ["EventBridgeEnabled"] = true },
                },
            },
        });
    }

    [Fact]
    public void Bucket_Lifecycle_ExpiresTaggedStatisticsAndNoncurrentVersions()
    {
        stack.Template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["LifecycleConfiguration"] = new Dictionary<string, object>
            {
                ["Rules"] = Match.ArrayWith(new object[]
                {
                    Match.ObjectLike(new Dictionary<string, object>
                    {
                        ["Status"] = "Enabled",
                        ["ExpirationInDays"] = 7,
                        ["TagFilters"] = new object[] { new Dictionary<string, object> { ["Key"] = "stepml:kind", ["Value"] = "statistic" } },
                        ["Prefix"] = Match.Absent(),
                    }),
                    Match.ObjectLike(new Dictionary<string, object>
                    {
                        ["Status"] = "Enabled",
                        ["NoncurrentVersionExpiration"] = new Dictionary<string, object> { ["NoncurrentDays"] = 7 },
                        // Current objects other than statistics never expire.
                        ["ExpirationInDays"] = Match.Absent(),
                    }),
                }),
            },
        });
    }

    [Fact]
    public void Bucket_LifecycleTag_IsTheTagTheStoreWritesForStatistics()
    {
        var tags = StepML.Storage.PutOptions.Statistic.Tags!;

        Assert.Equal(DataBucket.StatisticTagValue, tags[DataBucket.StatisticTagKey]);
    }

    [Fact]
    public void BucketPolicy_AnyRequestWithoutTls_IsDenied()
    {
        stack.Template.HasResourceProperties("AWS::S3::BucketPolicy", new Dictionary<string, object>
        {
            ["Bucket"] = new Dictionary<string, object> { ["Ref"] = BucketId },
            ["PolicyDocument"] = new Dictionary<string, object>
            {
                ["Statement"] = Match.ArrayWith(new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["Effect"] = "Deny",
                        ["Action"] = "s3:*",
                        ["Principal"] = new Dictionary<string, object> { ["AWS"] = "*" },
                        ["Condition"] = new Dictionary<string, object>
                        {
                            ["Bool"] = new Dictionary<string, object> { ["aws:SecureTransport"] = "false" },
                        },
                        ["Resource"] = Match.AnyValue(),
                    },
                }),
            },
        });
        var statements = stack.Resources("AWS::S3::BucketPolicy").Single().Resource
            .GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToList();
        Assert.DoesNotContain(statements, Policy.IsAllow);
        Assert.Equal([$"arn({BucketId})", $"arn({BucketId})/*"], Policy.Resources(statements.Single()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void UploadRule_Pattern_MatchesJobSpecsAndDatasetsCreatedInThisBucket()
    {
        stack.Template.ResourceCountIs("AWS::Events::Rule", 1);
        stack.Template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["State"] = "ENABLED",
            ["EventPattern"] = new Dictionary<string, object>
            {
                ["source"] = new[] { "aws.s3" },
                ["detail-type"] = new[] { "Object Created" },
                ["detail"] = new Dictionary<string, object>
                {
                    ["bucket"] = new Dictionary<string, object>
                    {
                        ["name"] = new object[] { new Dictionary<string, object> { ["Ref"] = BucketId } },
                    },
                    ["object"] = new Dictionary<string, object>
                    {
                        ["key"] = new object[]
                        {
                            new Dictionary<string, object> { ["wildcard"] = "jobs/*.json" },
                            new Dictionary<string, object> { ["prefix"] = "datasets/" },
                        },
                        ["size"] = new object[] { new Dictionary<string, object> { ["numeric"] = new object[] { ">", 0 } } },
                    },
                },
            },
        });
    }

    [Fact]
    public void UploadRule_Target_StartsTheStateMachineWithARoleThatMayOnlyStartIt()
    {
        var target = stack.Resources("AWS::Events::Rule").Single().Resource.GetProperty("Properties").GetProperty("Targets").EnumerateArray().Single();
        Assert.Equal($"ref({StateMachineId})", Policy.Render(target.GetProperty("Arn")));
        // No Input/InputPath: the whole "Object Created" event is the execution input.
        Assert.False(target.TryGetProperty("Input", out _));
        Assert.False(target.TryGetProperty("InputPath", out _));

        var roleId = Policy.Render(target.GetProperty("RoleArn"))["arn(".Length..^1];
        var statement = Assert.Single(stack.StatementsOfRole(roleId));
        Assert.Equal(["states:StartExecution"], Policy.Actions(statement));
        Assert.Equal([$"ref({StateMachineId})"], Policy.Resources(statement));
    }

    [Fact]
    public void StateMachine_Configuration_IsStandardTracedAndFullyLogged()
    {
        stack.Template.HasResourceProperties("AWS::StepFunctions::StateMachine", new Dictionary<string, object>
        {
            ["StateMachineType"] = "STANDARD",
            ["TracingConfiguration"] = new Dictionary<string, object> { ["Enabled"] = true },
            ["LoggingConfiguration"] = new Dictionary<string, object>
            {
                ["Level"] = "ALL",
                ["IncludeExecutionData"] = true,
                ["Destinations"] = new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["CloudWatchLogsLogGroup"] = new Dictionary<string, object> { ["LogGroupArn"] = Match.AnyValue() },
                    },
                },
            },
        });
    }

    [Fact]
    public void StateMachine_Substitutions_CoverEveryPlaceholderWithAFunctionArn()
    {
        var definition = File.ReadAllText(Path.Combine(stack.RepositoryRoot, RepositoryLayout.StateMachineDefinition));
        var substitutions = StateMachineProperties().GetProperty("DefinitionSubstitutions").EnumerateObject()
            .ToDictionary(p => p.Name, p => Policy.Render(p.Value));

        var placeholders = Placeholder().Matches(definition).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(placeholders.Order(StringComparer.Ordinal), substitutions.Keys.Order(StringComparer.Ordinal));
        foreach (var function in FunctionCatalog.All)
            Assert.Equal($"arn({stack.FunctionId(function.Name)})", substitutions[function.SubstitutionName]);
    }

    [Fact]
    public void StateMachine_RenderedDefinition_HasNoPlaceholderLeftAndEveryTaskNamesAFunctionOrAnIntegration()
    {
        var definition = File.ReadAllText(Path.Combine(stack.RepositoryRoot, RepositoryLayout.StateMachineDefinition));
        var functionArns = new Dictionary<string, string>();
        foreach (var substitution in StateMachineProperties().GetProperty("DefinitionSubstitutions").EnumerateObject())
        {
            // What CloudFormation does at deploy time, with a made-up account.
            var logicalId = Policy.Render(substitution.Value)["arn(".Length..^1];
            var arn = $"arn:aws:lambda:eu-west-1:123456789012:function:{logicalId}";
            functionArns[arn] = logicalId;
            definition = definition.Replace("${" + substitution.Name + "}", arn, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("${", definition, StringComparison.Ordinal);
        using var rendered = JsonDocument.Parse(definition);
        var tasks = TaskResources(rendered.RootElement).ToList();
        Assert.NotEmpty(tasks);
        foreach (var resource in tasks)
            Assert.True(functionArns.ContainsKey(resource) || resource.StartsWith("arn:aws:states:::", StringComparison.Ordinal),
                $"Task resource '{resource}' is neither a StepML function nor a Step Functions service integration");
        // Every function is used by the definition (none deployed for nothing).
        Assert.Equal(functionArns.Keys.Order(StringComparer.Ordinal), tasks.Where(functionArns.ContainsKey).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void StateMachineRole_Invoke_OnlyTheStepMLFunctions()
    {
        var roleId = Policy.Render(StateMachineProperties().GetProperty("RoleArn"))["arn(".Length..^1];
        var functionIds = FunctionCatalog.All.Select(f => stack.FunctionId(f.Name)).ToHashSet();

        var invoke = stack.StatementsOfRole(roleId).Where(s => Policy.Actions(s).Contains("lambda:InvokeFunction")).ToList();
        Assert.Equal(FunctionCatalog.All.Count, invoke.Count);
        var resources = invoke.SelectMany(Policy.Resources).ToList();
        Assert.All(invoke, s => Assert.Equal(["lambda:InvokeFunction"], Policy.Actions(s)));
        Assert.Equal(
            functionIds.SelectMany(id => new[] { $"arn({id})", $"arn({id}):*" }).Order(StringComparer.Ordinal),
            resources.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void StateMachineRole_StartExecution_OnlyItsOwnExecutions()
    {
        var roleId = Policy.Render(StateMachineProperties().GetProperty("RoleArn"))["arn(".Length..^1];
        var statements = stack.StatementsOfRole(roleId);

        var start = Assert.Single(statements, s => Policy.Actions(s).Contains("states:StartExecution"));
        Assert.Equal([$"ref({StateMachineId})"], Policy.Resources(start));
        var manage = Assert.Single(statements, s => Policy.Actions(s).Contains("states:StopExecution"));
        Assert.Equal(["states:DescribeExecution", "states:StopExecution"], Policy.Actions(manage).Order(StringComparer.Ordinal));
        Assert.All(Policy.Resources(manage), r => Assert.Contains($":execution:name({StateMachineId})", r, StringComparison.Ordinal));
    }

    [Fact]
    public void Iam_EveryAllowStatement_NamesNoWildcardAction()
    {
        var statements = stack.Resources("AWS::IAM::Policy")
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();

        Assert.NotEmpty(statements);
        Assert.All(statements, s => Assert.True(Policy.IsAllow(s), $"unexpected non-Allow statement {s}"));
        var wildcards = statements.SelectMany(Policy.Actions).Where(a => a.Contains('*')).ToList();
        Assert.True(wildcards.Count == 0, $"wildcard actions: {string.Join(", ", wildcards)}");
        // No managed policies either (they would hide statements from this check).
        Assert.All(stack.Resources("AWS::IAM::Role"), r => Assert.False(r.Resource.GetProperty("Properties").TryGetProperty("ManagedPolicyArns", out _), r.LogicalId));
    }

    [Fact]
    public void Iam_StarResources_OnlyForActionsAwsCannotScope()
    {
        // CloudWatch Logs vended delivery (state machine logging) and X-Ray accept no resource ARN.
        string[] allowed =
        [
            "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
            "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
        ];

        var starActions = stack.Resources("AWS::IAM::Policy")
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .Where(s => Policy.Resources(s).Contains("*"))
            .SelectMany(Policy.Actions)
            .Distinct()
            .Order(StringComparer.Ordinal);

        Assert.Equal(allowed.Order(StringComparer.Ordinal), starActions);
    }

    [Fact]
    public void FunctionRoles_BucketAccess_IsExactlyTheCatalogsPrefixes()
    {
        foreach (var function in FunctionCatalog.All)
        {
            var roleId = Policy.Render(stack.Resource(stack.FunctionId(function.Name)).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1];
            var statements = stack.StatementsOfRole(roleId);
            IEnumerable<string> ObjectsFor(string action) =>
                statements.Where(s => Policy.Actions(s).Contains(action)).SelectMany(Policy.Resources).Order(StringComparer.Ordinal);
            IEnumerable<string> Expected(IEnumerable<string> patterns) =>
                patterns.Select(p => $"arn({BucketId})/{p}").Order(StringComparer.Ordinal);

            Assert.Equal(Expected(function.Reads), ObjectsFor("s3:GetObject"));
            Assert.Equal(Expected(function.Writes), ObjectsFor("s3:PutObject"));
            Assert.Equal(Expected(function.TaggedWrites), ObjectsFor("s3:PutObjectTagging"));
            Assert.Equal(Expected(function.DeleteKeys), ObjectsFor("s3:DeleteObject"));
            var s3Actions = statements.SelectMany(Policy.Actions).Where(a => a.StartsWith("s3:", StringComparison.Ordinal)).ToHashSet();
            Assert.Subset(new HashSet<string> { "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject" }, s3Actions);
            // Only what the function itself logs to.
            var logs = statements.Where(s => Policy.Actions(s).Any(a => a.StartsWith("logs:", StringComparison.Ordinal))).SelectMany(Policy.Resources).ToList();
            Assert.Single(logs);
        }
    }

    [Fact]
    public void FunctionRoles_Listing_IsConditionedOnTheReadPrefixes()
    {
        var worker = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.Worker);
        var roleId = Policy.Render(stack.Resource(stack.FunctionId(worker.Name)).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1];

        var list = Assert.Single(stack.StatementsOfRole(roleId), s => Policy.Actions(s).Contains("s3:ListBucket"));
        Assert.Equal([$"arn({BucketId})"], Policy.Resources(list));
        var prefixes = list.GetProperty("Condition").GetProperty("StringLike").GetProperty("s3:prefix");
        Assert.Equal(worker.Reads, prefixes.EnumerateArray().Select(p => p.GetString()!));
    }

    [Fact]
    public void FunctionRoles_RecordFailure_CannotReadTheBucket()
    {
        var roleId = Policy.Render(stack.Resource(stack.FunctionId("RecordFailure")).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1];
        var actions = stack.StatementsOfRole(roleId).SelectMany(Policy.Actions).ToList();

        Assert.DoesNotContain("s3:GetObject", actions);
        Assert.DoesNotContain("s3:ListBucket", actions);
        Assert.Contains("s3:PutObject", actions);
    }

    [Fact]
    public void Outputs_BucketStateMachineAndConsoleLink_AreExported()
    {
        stack.Template.HasOutput("BucketName", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = BucketId } });
        stack.Template.HasOutput("StateMachineArn", new Dictionary<string, object> { ["Value"] = new Dictionary<string, object> { ["Ref"] = StateMachineId } });
        var console = Policy.Render(stack.Json.GetProperty("Outputs").GetProperty("ConsoleUrl").GetProperty("Value"));
        Assert.Equal($"https://ref(AWS::Region).console.aws.amazon.com/states/home?region=ref(AWS::Region)#/statemachines/view/ref({StateMachineId})", console);
    }

    [Fact]
    public void Resources_Names_AreGeneratedNeverHardCoded()
    {
        (string Type, string NameProperty)[] named =
        [
            ("AWS::S3::Bucket", "BucketName"), ("AWS::Lambda::Function", "FunctionName"), ("AWS::IAM::Role", "RoleName"),
            ("AWS::StepFunctions::StateMachine", "StateMachineName"), ("AWS::Logs::LogGroup", "LogGroupName"), ("AWS::Events::Rule", "Name"),
        ];
        foreach (var (type, property) in named)
            stack.Template.AllResourcesProperties(type, new Dictionary<string, object> { [property] = Match.Absent() });
    }

    private JsonElement StateMachineProperties() => stack.Resource(StateMachineId).GetProperty("Properties");

    private static IEnumerable<string> TaskResources(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("Type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "Task"
                && element.TryGetProperty("Resource", out var resource))
                yield return resource.GetString()!;
            foreach (var property in element.EnumerateObject())
                foreach (var inner in TaskResources(property.Value))
                    yield return inner;
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
                foreach (var inner in TaskResources(item))
                    yield return inner;
        }
    }

    [GeneratedRegex(@"\$\{([A-Za-z0-9_]+)\}")]
    private static partial Regex Placeholder();
}
