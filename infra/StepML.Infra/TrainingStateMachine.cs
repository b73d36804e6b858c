using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace StepML.Infra;

// The training loop from statemachines/train.asl.json: Standard type, every event logged, X-Ray on.
// Its role may invoke only the StepML functions and start only executions of this state machine (the
// Distributed Map's child executions and the continue-as-new StartExecution).
internal sealed class TrainingStateMachine : Construct
{
    public StateMachine StateMachine { get; }

    // Checked before anything is built, so a missing file fails in a second, not after a publish.
    public static string RequireDefinition(string repositoryRoot)
    {
        var path = Path.Combine(repositoryRoot, RepositoryLayout.StateMachineDefinition);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"state machine definition '{path}' does not exist: the stack deploys {RepositoryLayout.StateMachineDefinition} from the repository root",
                path);
        return path;
    }

    public TrainingStateMachine(Construct scope, string id, string definitionPath, TrainingFunctions functions, InfraSettings settings)
        : base(scope, id)
    {
        var logGroup = new LogGroup(this, "Logs", new LogGroupProps { Retention = settings.LogRetention });
        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            Comment = "StepML training loop: Prepare, Workers (Distributed Map), Merge, Decide, loop or Finalize",
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromFile(definitionPath),
            DefinitionSubstitutions = FunctionCatalog.All.ToDictionary(f => f.SubstitutionName, f => functions.ByName[f.Name].FunctionArn),
            TracingEnabled = true,
            Logs = new LogOptions { Destination = logGroup, Level = LogLevel.ALL, IncludeExecutionData = true },
        });

        foreach (var function in functions.ByName.Values)
            function.GrantInvoke(StateMachine);

        // A separate policy, not the role's default one: the state machine resource depends on its default
        // policy, and this statement names the state machine, so putting it there would be a cycle.
        var stack = Stack.Of(this);
        var executions = new[] { ":*", "/*" }.Select(suffix => stack.FormatArn(new ArnComponents
        {
            Service = "states",
            Resource = "execution",
            ResourceName = StateMachine.StateMachineName + suffix,
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        })).ToArray();
        _ = new Policy(this, "StartOwnExecutions", new PolicyProps
        {
            Roles = [StateMachine.Role],
            Statements =
            [
                new PolicyStatement(new PolicyStatementProps
                {
                    Actions = ["states:StartExecution"],
                    Resources = [StateMachine.StateMachineArn],
                }),
                // The Distributed Map describes and stops its child executions (named "<machine>/<map run>:<id>").
                new PolicyStatement(new PolicyStatementProps
                {
                    Actions = ["states:DescribeExecution", "states:StopExecution"],
                    Resources = executions,
                }),
            ],
        });
    }
}
