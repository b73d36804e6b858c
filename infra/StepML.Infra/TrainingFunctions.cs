using System.Globalization;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;

namespace StepML.Infra;

// The Lambda functions of FunctionCatalog: one shared code asset, and per function
// its own role (only its log group and its bucket prefixes), its own log group with the configured retention,
// memory and timeout from context.
internal sealed class TrainingFunctions : Construct
{
    // CDK 2.160 has no constant for the managed .NET 10 runtime.
    public static readonly Runtime Dotnet10 = new("dotnet10", RuntimeFamily.DOTNET_CORE);

    public const string StoreVariable = "STEPML_STORE";
    public const string MaxConcurrencyVariable = "STEPML_MAX_CONCURRENCY";
    public const string ToleratedFailurePercentageVariable = "STEPML_TOLERATED_FAILURE_PERCENTAGE";
    public const string ArchitectureVariable = "STEPML_ARCHITECTURE";
    public const string WorkerRoundSecondsVariable = "STEPML_WORKER_ROUND_SECONDS";

    public IReadOnlyDictionary<string, Function> ByName { get; }

    // The one code asset (the published StepML.Functions) and the environment every function gets, shared with the
    // search machine's function.
    public Code Code { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }

    public TrainingFunctions(Construct scope, string id, string repositoryRoot, InfraSettings settings, DataBucket data, RunLedgerTable ledger, ChannelNetwork? network = null)
        : base(scope, id)
    {
        var runtimeIdentifier = settings.Architecture == Architecture.ARM_64 ? "linux-arm64" : "linux-x64";
        var code = Code = Code.FromAsset(repositoryRoot, new Amazon.CDK.AWS.S3.Assets.AssetOptions
        {
            // Hash the build output, not the source tree: no need to fingerprint node_modules and friends, and
            // an unchanged build does not redeploy.
            AssetHashType = AssetHashType.OUTPUT,
            Bundling = new BundlingOptions
            {
                Local = new DotnetPublishBundling(repositoryRoot, runtimeIdentifier),
                // Used only when the machine has no dotnet SDK.
                Image = DockerImage.FromRegistry("mcr.microsoft.com/dotnet/sdk:10.0"),
                Command =
                [
                    "bash", "-c",
                    string.Join(' ', DotnetPublishBundling.PublishArguments(runtimeIdentifier, "/asset-output", "/tmp/stepml-artifacts")
                        .Prepend("dotnet")),
                ],
                WorkingDirectory = "/asset-input",
            },
        });

        var environment = new Dictionary<string, string>
        {
            [StoreVariable] = "s3://" + data.Bucket.BucketName,
            [MaxConcurrencyVariable] = settings.MaxConcurrency.ToString(CultureInfo.InvariantCulture),
            [ToleratedFailurePercentageVariable] = settings.ToleratedFailurePercentage.ToString(CultureInfo.InvariantCulture),
            // Cost estimates price x86_64 and arm64 GB-seconds differently.
            [ArchitectureVariable] = settings.Architecture.Name,
            // A worker ends its local work after this many seconds, so it never outlives its timeout (README "Limits").
            [WorkerRoundSecondsVariable] = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.Worker).Deployed
                .RoundSeconds(settings.TimeoutSeconds[FunctionCatalog.Worker]).ToString(CultureInfo.InvariantCulture),
        };

        Environment = environment;
        var functions = new Dictionary<string, Function>();
        foreach (var spec in FunctionCatalog.All)
        {
            var logGroup = new LogGroup(this, spec.Name + "Logs", new LogGroupProps { Retention = settings.LogRetention });
            var role = new Role(this, spec.Name + "Role", new RoleProps
            {
                AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
                Description = $"StepML {spec.Name} function: its log group and its bucket prefixes only",
            });
            logGroup.GrantWrite(role);
            data.GrantAccess(role, spec);
            var functionEnvironment = ledger.GrantTo(spec.Name, role)
                ? new Dictionary<string, string>(environment) { [RunLedgerTable.LedgerVariable] = ledger.Uri }
                : environment;

            functions[spec.Name] = new Function(this, spec.Name, new FunctionProps
            {
                Description = spec.Description,
                Runtime = Dotnet10,
                Handler = spec.Handler,
                Code = code,
                Architecture = settings.Architecture,
                MemorySize = settings.MemoryMb[spec.Name],
                Timeout = Duration.Seconds(settings.TimeoutSeconds[spec.Name]),
                // /tmp: Prepare writes image and test partitions there, Partition its pieces and one assembled partition.
                EphemeralStorageSize = Size.Mebibytes(spec.EphemeralStorageMb),
                Role = role,
                LogGroup = logGroup,
                Environment = functionEnvironment,
                Vpc = network?.Vpc,
                VpcSubnets = network?.FunctionSubnets,
                SecurityGroups = network is null ? null : [network.FunctionSecurityGroup],
            });
        }
        ByName = functions;
    }
}
