using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StepML.Storage.Tests.Channels;

/// <summary>A real server process for the channel tests (redis-server, dynalite) on 127.0.0.1 and a free port; stopped
/// by its process id on dispose.</summary>
public sealed class LocalServer : IDisposable
{
    private readonly Process _process;
    private readonly StringWriter _log = new();

    private LocalServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts <paramref name="program"/> with the arguments that <paramref name="arguments"/> builds for a free
    /// port, and waits until it accepts connections.</summary>
    public static LocalServer Start(string name, string program, Func<int, IEnumerable<string>> arguments)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments(port)) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{name}: cannot run '{program}' ({e.Message}); install it (see .ci/run)", e);
        }
        var server = new LocalServer(process, port);
        process.OutputDataReceived += (_, e) => { lock (server._log) server._log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (server._log) server._log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        server.WaitUntilListening(name);
        return server;
    }

    private void WaitUntilListening(string name)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{name} exited with code {_process.ExitCode} before listening:{Environment.NewLine}{_log}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        Dispose();
        throw new TimeoutException($"{name} did not listen on 127.0.0.1:{Port} within 30 s:{Environment.NewLine}{_log}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StepML.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no StepML.sln above {AppContext.BaseDirectory}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
