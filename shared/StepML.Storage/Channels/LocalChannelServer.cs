using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StepML.Storage.Channels;

/// <summary>A channel server process on 127.0.0.1 and a free port (Debian's redis-server, npm's dynalite), for the tests
/// and <c>stepml bench</c>: started, waited for until it accepts connections, and stopped by its process id on dispose.</summary>
public sealed class LocalChannelServer : IDisposable
{
    private readonly Process _process;
    private readonly StringWriter _log = new();

    private LocalChannelServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts <paramref name="program"/> with the arguments that <paramref name="arguments"/> builds for a free
    /// port, and waits until it accepts connections.</summary>
    public static LocalChannelServer Start(string name, string program, Func<int, IEnumerable<string>> arguments)
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
        var server = new LocalChannelServer(process, port);
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

    /// <summary>Starts redis-server without persistence, its working folder <paramref name="directory"/>.</summary>
    public static LocalChannelServer StartRedis(string directory) =>
        Start("redis-server", "redis-server", port =>
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"]);

    /// <summary>Starts npm's dynalite (in memory) from <c>node_modules</c> of the repository at or above
    /// <paramref name="searchFrom"/>; null when there is none (run <c>npm ci</c>).</summary>
    public static LocalChannelServer? StartDynalite(string searchFrom)
    {
        for (var dir = new DirectoryInfo(searchFrom); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "node_modules", "dynalite", "cli.js");
            if (File.Exists(script))
                return Start("dynalite", "node", port => [script, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host", "127.0.0.1"]);
        }
        return null;
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
