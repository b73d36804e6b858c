using System.ComponentModel;
using System.Diagnostics;
using Amazon.CDK;
using Amazon.JSII.Runtime.Deputy;

namespace StepML.Infra;

// Builds the functions' code with the local .NET SDK (no Docker): `dotnet publish
// functions/StepML.Functions -c Release -r linux-x64|linux-arm64 --self-contained false` into the
// asset folder CDK gives us. jsii calls back into this class, hence DeputyBase.
internal sealed class DotnetPublishBundling : DeputyBase, ILocalBundling
{
    private readonly string _repositoryRoot;
    private readonly string _runtimeIdentifier;

    public DotnetPublishBundling(string repositoryRoot, string runtimeIdentifier)
    {
        _repositoryRoot = repositoryRoot;
        _runtimeIdentifier = runtimeIdentifier;
    }

    public static IReadOnlyList<string> PublishArguments(string runtimeIdentifier, string outputDir, string artifactsPath) =>
    [
        "publish", RepositoryLayout.FunctionsProject,
        "-c", "Release",
        "-r", runtimeIdentifier,
        "--self-contained", "false",
        "-o", outputDir,
        // Separate bin/obj: a RID-specific restore must not disturb the developer's own build folders.
        "--artifacts-path", artifactsPath,
        "-nologo",
    ];

    public bool TryBundle(string outputDir, IBundlingOptions options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var artifacts = Path.Combine(_repositoryRoot, "artifacts", "lambda-" + _runtimeIdentifier);
        foreach (var argument in PublishArguments(_runtimeIdentifier, outputDir, artifacts))
            start.ArgumentList.Add(argument);

        Console.Error.WriteLine($"StepML: dotnet {string.Join(' ', start.ArgumentList)}");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("dotnet publish did not start");
        }
        catch (Win32Exception)
        {
            // No dotnet on PATH: let CDK fall back to the Docker image in the bundling options.
            Console.Error.WriteLine("StepML: no 'dotnet' on PATH; falling back to Docker bundling");
            return false;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException(
                    $"dotnet publish of {RepositoryLayout.FunctionsProject} for {_runtimeIdentifier} failed with exit code {process.ExitCode}; " +
                    $"run the same command from {_repositoryRoot} to see the build errors:{System.Environment.NewLine}{stdout.Result}{stderr.Result}");
        }
        if (!File.Exists(Path.Combine(outputDir, RepositoryLayout.FunctionsAssembly + ".dll")))
            throw new InvalidOperationException(
                $"dotnet publish succeeded but {RepositoryLayout.FunctionsAssembly}.dll is not in {outputDir}: check the project's AssemblyName");
        return true;
    }
}
