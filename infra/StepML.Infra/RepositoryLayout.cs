namespace StepML.Infra;

// Where the CDK app finds the rest of the repository. Paths are relative to the folder that
// holds StepML.sln; every path the stack reads goes through one constant here.
internal static class RepositoryLayout
{
    public const string SolutionFile = "StepML.sln";
    public const string StateMachineDefinition = "statemachines/train.asl.json";
    public const string SearchStateMachineDefinition = "statemachines/search.asl.json";
    public const string FunctionsProject = "functions/StepML.Functions/StepML.Functions.csproj";
    public const string FunctionsAssembly = "StepML.Functions";
    public const string FunctionsNamespace = "StepML.Functions";

    // Walks up from start to the folder that contains StepML.sln.
    public static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                return dir.FullName;
        throw new InvalidOperationException(
            $"no {SolutionFile} found in '{start}' or any parent folder: run cdk from the StepML checkout (cdk.json is at its root)");
    }
}
