using System.Runtime.CompilerServices;

namespace StepML.Tests;

/// <summary>
/// Every test process (one per test project) puts its temporary folders under one folder of its own, which it deletes
/// when it exits: the stores, ledgers and fixture data the tests create with <see cref="Directory.CreateTempSubdirectory(string)"/>
/// or <see cref="Path.GetTempPath"/>, and what child processes (the CLI, s3rver, cdk) write to their temp folder, since
/// they inherit TMPDIR. Before this, each full run left 20–40 GB of stores in /tmp, and a few runs filled the disk.
/// The test host is often ended without running exit handlers, so each process also removes the folders of test
/// processes that are no longer alive (<c>stepml-tests-PID-*</c>) when it starts.
/// Linked into every test project by Directory.Build.props.
/// </summary>
internal static class TestTempRoot
{
    private const string Prefix = "stepml-tests-";

#pragma warning disable CA2255 // a module initializer is the point: it must run before any test creates a folder
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        RemoveFoldersOfEndedProcesses(Path.GetTempPath());
        var root = Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", root + Path.DirectorySeparatorChar);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"could not remove the test folder {root}: {e.Message}");
            }
        };
    }

    private static void RemoveFoldersOfEndedProcesses(string temp)
    {
        foreach (var folder in Directory.EnumerateDirectories(temp, Prefix + "*"))
        {
            var name = Path.GetFileName(folder).AsSpan(Prefix.Length);
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], out var pid) || Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another test process may be removing it at the same moment.
            }
        }
    }
}
