using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace StepML.Infra;

// The hyper-parameter search from statemachines/search.asl.json and its Search function. Trials are nested executions
// of the training machine (arn:aws:states:::states:startExecution.sync:2), so its role may start executions of the
// training machine only, describe and stop them, and manage the EventBridge rule Step Functions uses to learn that a
// nested execution ended (as documented for the .sync integration pattern); its function reads runs and jobs and
// writes only searches/.
internal sealed class SearchStateMachine : Construct
{
    // The managed rule every .sync integration with Step Functions executions relies on.
    public const string SyncRuleName = "StepFunctionsGetEventsForStepFunctionsExecutionRule";

    public Function Function { get; }
    public StateMachine StateMachine { get; }

    public static string RequireDefinition(string repositoryRoot)
    {
        var path = Path.Combine(repositoryRoot, RepositoryLayout.SearchStateMachineDefinition);
        if (!File.Exists(path))
            throw new FileNotFoundException($"state machine definition '{path}' does not exist: the stack deploys {RepositoryLayout.SearchStateMachineDefinition} from the repository root", path);
        return path;
    }

    public SearchStateMachine(Construct scope, string id, string definitionPath, TrainingFunctions functions, StateMachine training,
        DataBucket data, InfraSettings settings) : base(scope, id)
    {
        var spec = FunctionCatalog.Search;
        var functionLogs = new LogGroup(this, "FunctionLogs", new LogGroupProps { Retention = settings.LogRetention });
        var role = new Role(this, "FunctionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "StepML Search function: its log group and its bucket prefixes only",
        });
        functionLogs.GrantWrite(role);
        data.GrantAccess(role, spec);
        Function = new Function(this, "Function", new FunctionProps
        {
            Description = spec.Description,
            Runtime = TrainingFunctions.Dotnet10,
            Handler = spec.Handler,
            Code = functions.Code,
            Architecture = settings.Architecture,
            MemorySize = spec.DefaultMemoryMb,
            Timeout = Duration.Seconds(spec.DefaultTimeoutSeconds),
            EphemeralStorageSize = Size.Mebibytes(spec.EphemeralStorageMb),
            Role = role,
            LogGroup = functionLogs,
            Environment = functions.Environment.ToDictionary(),
        });

        var logs = new LogGroup(this, "Logs", new LogGroupProps { Retention = settings.LogRetention });
        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            Comment = "StepML hyper-parameter search: Plan, batches of trials as nested training executions, Rank, Finish",
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromFile(definitionPath),
            DefinitionSubstitutions = new Dictionary<string, string>
            {
                [spec.SubstitutionName] = Function.FunctionArn,
                ["TrainStateMachineArn"] = training.StateMachineArn,
            },
            TracingEnabled = true,
            Logs = new LogOptions { Destination = logs, Level = LogLevel.ALL, IncludeExecutionData = true },
        });
        Function.GrantInvoke(StateMachine);

        var stack = Stack.Of(this);
        var trainingExecutions = stack.FormatArn(new ArnComponents
        {
            Service = "states",
            Resource = "execution",
            ResourceName = training.StateMachineName + ":*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["states:StartExecution"],
            Resources = [training.StateMachineArn],
        }));
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["states:DescribeExecution", "states:StopExecution"],
            Resources = [trainingExecutions],
        }));
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            Resources = [stack.FormatArn(new ArnComponents { Service = "events", Resource = "rule", ResourceName = SyncRuleName, ArnFormat = ArnFormat.SLASH_RESOURCE_NAME })],
        }));
    }
}
