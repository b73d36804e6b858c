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

    private readonly Process _process;
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

        _directory = Directory.CreateTempSubdirectory("stepml-s3rver-").FullName;
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+) only has in its
        // legacy provider: without it every truncated listing is a 500.
        foreach (var argument in new[] { "--openssl-legacy-provider", script, "-d", _directory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
            start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilListening(port);

        var config = S3ObjectStore.CreateConfig(Endpoint);
        Client = new AmazonS3Client(Credentials, config);
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
