using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using StepML.Cli.ServeLambda;
using StepML.Core.Data;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.SecondEngine;

/// <summary>The repository checkout these tests run in, and the npm tools its package.json locks.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string RunScript => Path.Combine(Root, "tests", "second-engine", "run.mjs");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StepML.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no StepML.sln above {AppContext.BaseDirectory}: run the tests from a checkout of the repository");
    }

    /// <summary>The npm package's folder; fails the test (never skips it) when <c>npm ci</c> has not been run.</summary>
    public static string RequireNodePackage(string package)
    {
        var folder = Path.Combine(Root, "node_modules", package);
        if (!Directory.Exists(folder))
            Assert.Fail($"{folder} is missing: run `npm ci` in {Root} (package.json locks {package}, which the second-engine tests need)");
        return folder;
    }
}

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

internal static class Processes
{
    /// <summary>Runs a program to completion; on timeout kills the process (and its children) it started and fails.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start '{fileName}' ({e.Message}): the second-engine tests need Node.js 20+ on PATH", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.Fail($"{fileName} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds} s and was killed\n{await stderr}");
            }
            return new ProcessResult(process.ExitCode, await stdout, await stderr);
        }
    }
}

/// <summary>A temporary folder store holding a Higgs-shaped dataset, deleted on dispose.</summary>
internal sealed class TempStore : IDisposable
{
    public const string DatasetKey = "datasets/higgs.libsvm";

    private TempStore(string root)
    {
        Root = root;
        Store = new FileObjectStore(root);
    }

    public string Root { get; }
    public FileObjectStore Store { get; }

    /// <param name="malformedLine">When set, the 1-based line number replaced by a row with a feature value that is not a number.</param>
    public static async Task<TempStore> CreateAsync(long rows, int features, ulong seed, long? malformedLine = null)
    {
        var store = new TempStore(Directory.CreateTempSubdirectory("stepml-second-").FullName);
        var text = new StringWriter { NewLine = "\n" };
        SyntheticData.WriteHiggsLike(text, rows, features, seed);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (malformedLine is { } bad) lines[bad - 1] = "1 1:0.5 2:not-a-number 3:1.25";
        await store.Store.PutAsync(DatasetKey, Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        return store;
    }

    /// <summary>Copies the dataset object into another new store, so that two engines start from the same bytes.</summary>
    public async Task<TempStore> CloneDatasetAsync()
    {
        var other = new TempStore(Directory.CreateTempSubdirectory("stepml-second-").FullName);
        await other.Store.PutAsync(DatasetKey, await Store.GetAsync(DatasetKey));
        return other;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A handler still finishing a write on a slow machine; the temp folder is the OS's to clean then.
        }
    }
}

/// <summary><c>stepml serve-lambda</c> in this process, on a free loopback port, serving one store.</summary>
internal sealed class InProcessLambdaServer : IAsyncDisposable
{
    private readonly LambdaInvokeServer _server;

    private InProcessLambdaServer(LambdaInvokeServer server, StringWriter log)
    {
        _server = server;
        Log = log;
    }

    public Uri BaseAddress => _server.BaseAddress;
    public StringWriter Log { get; }

    public static async Task<InProcessLambdaServer> StartAsync(IObjectStore store)
    {
        var functions = new LambdaFunctionTable(new FunctionContext(new FunctionSettings(store.Uri), store));
        var log = new StringWriter();
        var server = await LambdaInvokeServer.StartAsync(functions, IPAddress.Loopback, 0, TextWriter.Synchronized(log));
        return new InProcessLambdaServer(server, log);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

internal static class Jobs
{
    public static string HiggsJob(string runId, string algorithm, int partitions, int shards, int maxRounds, int roundsPerExecution = 0, int features = 28) =>
        new JsonObject
        {
            ["name"] = "second-engine",
            ["runId"] = runId,
            ["dataset"] = new JsonObject { ["path"] = TempStore.DatasetKey, ["format"] = "libsvm", ["features"] = features, ["partitions"] = partitions, ["validationFraction"] = 0.1 },
            ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = 1e-4 },
            ["algorithm"] = new JsonObject { ["type"] = algorithm, ["learningRate"] = 0.5, ["batchSize"] = 200, ["localEpochs"] = 2, ["rho"] = 0.05 },
            ["communication"] = new JsonObject { ["channel"] = "s3", ["pattern"] = shards > 1 ? "scatter-reduce" : "all-reduce", ["shards"] = shards },
            ["stop"] = new JsonObject { ["maxRounds"] = maxRounds, ["roundsPerExecution"] = roundsPerExecution },
            ["seed"] = 11,
        }.ToJsonString();
}
