using System.CommandLine;
using System.Diagnostics;
using StepML.Cli.Tests.Pipeline;

namespace StepML.Cli.Tests.Commands;

/// <summary>The command line's conventions: one style of defaults in every --help, --set overrides with the file's
/// validation, and the tool package installs and runs.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ConventionsTests(PipelineFixture data) : IClassFixture<PipelineFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-conventions-").FullName;

    private static IEnumerable<string[]> Commands(Command command, string[] path)
    {
        yield return path;
        foreach (var sub in command.Subcommands)
            foreach (var p in Commands(sub, [.. path, sub.Name])) yield return p;
    }

    [Fact]
    public async Task Help_EveryCommand_ShowsEachDefaultOnce()
    {
        foreach (var path in Commands(CliApp.Build(), []))
        {
            var (code, output, _) = await Cli.RunAsync([.. path, "--help"]);

            Assert.Equal(0, code);
            foreach (var line in output.Split('\n'))
                Assert.False(line.Contains("(default", StringComparison.Ordinal) && line.Contains("[default:", StringComparison.Ordinal), $"stepml {string.Join(' ', path)}: {line}");
        }
    }

    [Fact]
    public async Task Help_EveryCommandThatTrainsOrGenerates_HasQuiet()
    {
        foreach (var path in new[] { new[] { "demo" }, ["run"], ["data", "generate"], ["data", "partition"], ["serve-lambda"] })
            Assert.Contains("--quiet", (await Cli.RunAsync([.. path, "--help"])).Out);
        Assert.Contains("--out", (await Cli.RunAsync("bench-models", "--help")).Out);
    }

    private string JobFile()
    {
        File.Copy(data.DatasetFile, Path.Combine(_dir, "d.libsvm"), overwrite: true);
        var job = Path.Combine(_dir, "job.json");
        File.WriteAllText(job, """{ "name": "set", "runId": "set-run", "dataset": { "path": "d.libsvm", "partitions": 2 }, "stop": { "maxRounds": 9 } }""");
        return job;
    }

    [Fact]
    public async Task Run_SetOverrides_TakeEffectWithTheFilesValidation()
    {
        var (code, output, error) = await Cli.RunAsync("run", JobFile(), "--store", Path.Combine(_dir, "s"), "--quiet",
            "--set", "stop.maxRounds=2", "--set", "algorithm.rho=0.05", "--set", "algorithm.type=admm");

        Assert.True(code == 0, error);
        Assert.Contains("finished set-run after 2 rounds", output);
        var stored = File.ReadAllText(Path.Combine(_dir, "s", "runs", "set-run", "job.json"));
        Assert.Contains("\"rho\": 0.05", stored);
    }

    [Theory]
    [InlineData("algorithm.rhoo=0.05", "did you mean 'rho'?")]
    [InlineData("stop.maxRounds=-3", "stop.maxRounds")]
    [InlineData("algorithm.rho", "FIELD=VALUE")]
    public async Task Run_BadSet_ExitsTwoNamingTheOverride(string set, string expected)
    {
        var (code, _, error) = await Cli.RunAsync("run", JobFile(), "--store", Path.Combine(_dir, "s"), "--set", set);

        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Contains("--set", error);
    }

    [Fact]
    public async Task Run_SetOutOfRange_NamesTheFieldOnceThenTheOverride()
    {
        var (code, _, error) = await Cli.RunAsync("run", JobFile(), "--store", Path.Combine(_dir, "s"), "--set", "stop.maxRounds=-3");

        Assert.Equal(2, code);
        Assert.Contains("job spec field 'stop.maxRounds': in --set stop.maxRounds=-3: -3 must be between", error);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(error, "job spec field"));
    }

    [Fact]
    public async Task Pack_AsDotnetTool_InstallsAndRunsHelp()
    {
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repository.FullName, "StepML.sln"))) repository = repository.Parent!;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var packages = Path.Combine(_dir, "packages");
        var tools = Path.Combine(_dir, "tools");

        // --no-build packs the binaries this test run was built with (the test project references the CLI).
        await RunAsync("dotnet", "pack", Path.Combine(repository.FullName, "cli", "StepML.Cli"), "-c", configuration, "--no-build", "-o", packages);
        await RunAsync("dotnet", "tool", "install", "--tool-path", tools, "--add-source", packages, "StepML.Cli");
        var help = await RunAsync(Path.Combine(tools, "stepml"), "--help");

        Assert.Contains("predict <MODEL> <DATA>", help);
        Assert.Contains("watch <RUN>", help);
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
        return await output;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
