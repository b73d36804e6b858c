using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using StepML.Storage.Ledger;
using StepML.Storage.Tests.S3;

namespace StepML.Storage.Tests.Ledger;

// A real DynamoDB-protocol server (npm dynalite, from the root package.json) on 127.0.0.1 and a free port, in
// memory; stopped by its process id on dispose. Each test gets its own table, shaped like the stack's.
public sealed class DynaliteFixture : IDisposable
{
    private readonly Process _process;
    private readonly StringWriter _log = new();
    private int _tables;

    public Uri Endpoint { get; }
    public IAmazonDynamoDB Client { get; }

    public DynaliteFixture()
    {
        var root = FindRepositoryRoot();
        var script = Path.Combine(root, "node_modules", "dynalite", "cli.js");
        if (!File.Exists(script))
            throw new InvalidOperationException($"{script} is missing: the ledger tests run against npm's dynalite; run `npm ci` in {root} first");
        var port = S3rverFixture.FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { script, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--createTableMs", "0" })
            start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilListening(port);
        Client = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), DynamoDbRunLedger.CreateConfig(Endpoint));
    }

    /// <summary>A new table with the stack's key schema (pk, a string; on-demand).</summary>
    public string CreateTable()
    {
        var name = $"ledger-{Interlocked.Increment(ref _tables)}-{Guid.NewGuid():N}"[..24];
        Client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            KeySchema = [new KeySchemaElement("pk", KeyType.HASH)],
            AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        }).GetAwaiter().GetResult();
        // Even with --createTableMs 0 the table turns ACTIVE on the next tick: wait for it.
        for (var i = 0; i < 100 && Client.DescribeTableAsync(name).GetAwaiter().GetResult().Table.TableStatus != TableStatus.ACTIVE; i++)
            Thread.Sleep(20);
        return name;
    }

    private void WaitUntilListening(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"dynalite exited with code {_process.ExitCode} before listening:{Environment.NewLine}{_log}");
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
        throw new TimeoutException($"dynalite did not listen on 127.0.0.1:{port} within 30 s:{Environment.NewLine}{_log}");
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
    }
}

[CollectionDefinition(Name)]
public sealed class DynaliteCollection : ICollectionFixture<DynaliteFixture>
{
    public const string Name = "dynalite";
}
