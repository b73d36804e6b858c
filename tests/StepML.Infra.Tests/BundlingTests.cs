using StepML.Infra;

namespace StepML.Infra.Tests;

public sealed class BundlingTests
{
    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void PublishArguments_ForRuntime_PublishesTheFunctionsProjectFrameworkDependent(string runtimeIdentifier)
    {
        var arguments = DotnetPublishBundling.PublishArguments(runtimeIdentifier, "/out", "/artifacts");

        Assert.Equal("publish", arguments[0]);
        Assert.Equal(RepositoryLayout.FunctionsProject, arguments[1]);
        Assert.Equal(runtimeIdentifier, arguments[arguments.ToList().IndexOf("-r") + 1]);
        Assert.Equal("false", arguments[arguments.ToList().IndexOf("--self-contained") + 1]);
        Assert.Equal("Release", arguments[arguments.ToList().IndexOf("-c") + 1]);
        Assert.Equal("/out", arguments[arguments.ToList().IndexOf("-o") + 1]);
    }

    [Fact]
    public void TryBundle_WithLocalSdk_PublishesTheHandlerAssemblyIntoTheAssetFolder()
    {
        var root = RepositoryLayout.FindRoot(AppContext.BaseDirectory);
        var output = Directory.CreateTempSubdirectory("stepml-bundle-").FullName;
        try
        {
            var bundled = new DotnetPublishBundling(root, "linux-x64").TryBundle(output, new Amazon.CDK.BundlingOptions());

            Assert.True(bundled);
            Assert.True(File.Exists(Path.Combine(output, "StepML.Functions.dll")));
            Assert.True(File.Exists(Path.Combine(output, "StepML.Functions.deps.json")));
            Assert.True(File.Exists(Path.Combine(output, "StepML.Storage.dll")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
