using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using StepML.Infra;

namespace StepML.Infra.Tests;

// One synthesis of the real stack, shared by the template tests (jsii starts node, so synthesis
// costs seconds). Bundling is skipped through CDK's own bundling-stacks context, so no dotnet publish runs
// and nothing leaves the machine.
public sealed class SynthesizedStack : IDisposable
{
    public const string StackName = "StepMLTest";

    public string RepositoryRoot { get; }
    public string OutputDirectory { get; }
    internal Template Template { get; }
    public JsonElement Json { get; }

    public SynthesizedStack() : this(new Dictionary<string, object>()) { }

    internal SynthesizedStack(IDictionary<string, object> context)
    {
        RepositoryRoot = RepositoryLayout.FindRoot(AppContext.BaseDirectory);
        OutputDirectory = Directory.CreateTempSubdirectory("stepml-infra-tests-").FullName;
        var fullContext = new Dictionary<string, object>(context) { ["aws:cdk:bundling-stacks"] = Array.Empty<string>() };
        var app = new App(new AppProps { Outdir = OutputDirectory, Context = fullContext });
        var stack = new StepMLStack(app, StackName, RepositoryRoot);
        Template = Template.FromStack(stack);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(OutputDirectory, stack.TemplateFile)));
        Json = document.RootElement.Clone();
    }

    public IEnumerable<(string LogicalId, JsonElement Resource)> Resources(string type) =>
        Json.GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == type)
            .Select(r => (r.Name, r.Value));

    public JsonElement Resource(string logicalId) => Json.GetProperty("Resources").GetProperty(logicalId);

    // The logical id of the function whose handler class is {name}Function.
    public string FunctionId(string name) =>
        Resources("AWS::Lambda::Function")
            .Single(f => f.Resource.GetProperty("Properties").GetProperty("Handler").GetString()!
                .EndsWith($".{name}Function::HandleAsync", StringComparison.Ordinal)).LogicalId;

    // The statements of every IAM policy attached to the role with this logical id.
    public IReadOnlyList<JsonElement> StatementsOfRole(string roleLogicalId) =>
        Resources("AWS::IAM::Policy")
            .Where(p => p.Resource.GetProperty("Properties").GetProperty("Roles").EnumerateArray()
                .Any(r => r.TryGetProperty("Ref", out var id) && id.GetString() == roleLogicalId))
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .ToList();

    public void Dispose()
    {
        try { Directory.Delete(OutputDirectory, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}
