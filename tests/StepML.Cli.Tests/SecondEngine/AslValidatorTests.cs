using System.Text.RegularExpressions;

namespace StepML.Cli.Tests.SecondEngine;

/// <summary>Every statemachines/*.asl.json passes asl-validator (the npm package locked in package.json), both as
/// committed (with <c>${...}</c> placeholders) and as deployed (placeholders replaced by ARNs, as CDK does).</summary>
public sealed partial class AslValidatorTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AslValidator_EveryStateMachine_Accepted()
    {
        var files = Directory.GetFiles(Path.Combine(Repo.Root, "statemachines"), "*.asl.json");
        Assert.NotEmpty(files);
        var substitutedFolder = Directory.CreateTempSubdirectory("stepml-asl-").FullName;
        try
        {
            foreach (var file in files)
            {
                var substituted = Path.Combine(substitutedFolder, Path.GetFileName(file));
                await File.WriteAllTextAsync(substituted, SubstituteArns(await File.ReadAllTextAsync(file), file));
                foreach (var path in new[] { file, substituted })
                {
                    var result = await ValidateAsync(path);
                    Assert.True(result.ExitCode == 0, $"asl-validator rejects {path}: {result}");
                    Assert.Contains("is valid", result.StandardOutput, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            Directory.Delete(substitutedFolder, recursive: true);
        }
    }

    /// <summary>The control: the validator, as invoked here, does reject a definition with a dangling Next.</summary>
    [Fact]
    public async Task AslValidator_DefinitionWithMissingNextTarget_Rejected()
    {
        var file = Path.Combine(Path.GetTempPath(), $"stepml-asl-{Guid.NewGuid():N}.asl.json");
        await File.WriteAllTextAsync(file, """{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}""");
        try
        {
            var result = await ValidateAsync(file);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("MISSING_TRANSITION_TARGET", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Task<ProcessResult> ValidateAsync(string path)
    {
        var validator = Path.Combine(Repo.RequireNodePackage("asl-validator"), "..", ".bin", "asl-validator");
        return Processes.RunAsync(validator, ["--json-path", path], s_timeout);
    }

    private static string SubstituteArns(string text, string file)
    {
        var replaced = FunctionArnPlaceholder().Replace(text, m => $"arn:aws:lambda:us-east-1:000000000000:function:stepml-{m.Groups[1].Value}")
            .Replace("${TrainStateMachineArn}", "arn:aws:states:us-east-1:000000000000:stateMachine:stepml-train", StringComparison.Ordinal);
        var left = Regex.Match(replaced, @"\$\{\w+\}");
        Assert.False(left.Success, $"{file}: this test knows only ${{<Name>FunctionArn}} and ${{TrainStateMachineArn}} substitutions; teach it {left.Value}");
        return replaced;
    }

    [GeneratedRegex(@"\$\{(\w+)FunctionArn\}")]
    private static partial Regex FunctionArnPlaceholder();
}
