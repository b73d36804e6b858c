using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using StepML.Storage.S3;

namespace StepML.Storage.Tests.S3;

// A real S3-protocol server (npm s3rver, from the root package.json) on 127.0.0.1 and a free
// port, with its data in a temporary folder; stopped by its process id on dispose.
public sealed class S3rverFixture : IDisposable
{
    // s3rver's built-in account; any other key pair is refused.
    public static readonly AWSCredentials Credentials = new BasicAWSCredentials("S3RVER", "S3RVER");

    private readonly string _script = "";
    private readonly int _port;
    private Process _process;
    private readonly string _directory;
    private readonly StringWriter _log = new();
    private int _buckets;

    public Uri Endpoint { get; }
    public IAmazonS3 Client { get; }

    public S3rverFixture()
    {
        var root = FindRepositoryRoot();
        var script = Path.Combine(root, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
            throw new InvalidOperationException(
                $"{script} is missing: the S3 store tests run against npm's s3rver; run `npm ci` in {root} first");

        _script = script;
        _directory = Directory.CreateTempSubdirectory("stepml-s3rver-").FullName;
        _port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{_port}");
        _process = Start();

        var config = S3ObjectStore.CreateConfig(Endpoint);
        Client = new AmazonS3Client(Credentials, config);
    }

    private Process Start()
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+) only has in its
        // legacy provider: without it every truncated listing is a 500.
        foreach (var argument in new[] { "--openssl-legacy-provider", _script, "-d", _directory, "-a", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.OutputDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        WaitUntilListening(_port);
        return process;
    }

    /// <summary>Kills the server (a store outage) and keeps its data; <see cref="Restart"/> brings it back.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        _process.Kill();
        _process.WaitForExit(5000);
    }

    /// <summary>Starts the server again on the same port and data folder.</summary>
    public void Restart()
    {
        Stop();
        _process.Dispose();
        _process = Start();
    }

    // A new, empty bucket: every test gets its own.
    public string CreateBucket()
    {
        var name = $"test-{Interlocked.Increment(ref _buckets)}-{Guid.NewGuid():N}"[..30];
        Client.PutBucketAsync(new PutBucketRequest { BucketName = name }).GetAwaiter().GetResult();
        return name;
    }

    private void WaitUntilListening(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} before listening:{Environment.NewLine}{_log}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new TimeoutException($"s3rver did not listen on 127.0.0.1:{port} within 30 s:{Environment.NewLine}{_log}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StepML.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no StepML.sln above {AppContext.BaseDirectory}");
    }

    public void Dispose()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
