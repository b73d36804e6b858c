using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Storage;
using StepML.Storage.Channels;

namespace StepML.Cli.Bench;

/// <summary>
/// One round's channel traffic, exactly as the pipeline makes it, timed per phase on each channel: P workers write
/// their statistic (concurrently), S mergers each read their shard of every statistic and write a merged shard
/// (concurrently), Decide reads the S shards and frees the previous round. Servers are started here on loopback
/// (redis-server, dynalite) when available, else that channel is skipped with the reason. Local latencies are not the
/// cloud's: loopback has no network round trip, dynalite is a single Node process, and the folder store is the
/// page cache, so read the figures as requests and bytes per round, and as relative costs at most.
/// </summary>
internal static class ChannelBenchmark
{
    public const string Caution = "local servers on loopback: no network latency or bandwidth limit, dynalite is one Node.js process, " +
        "the s3 channel is the local folder store; compare requests and bytes, not seconds, with the cloud";

    /// <summary><c>stepml bench-channels</c>: only this benchmark, with its sizes as options.</summary>
    public static System.CommandLine.Command Create()
    {
        var sizes = new System.CommandLine.Option<string>("--sizes") { Description = "Model sizes in parameters, comma-separated", DefaultValueFactory = _ => "10000,1000000,10000000" };
        var workers = new System.CommandLine.Option<int>("--workers") { Description = "Workers (statistics per round)", DefaultValueFactory = _ => 4 };
        var shards = new System.CommandLine.Option<int>("--shards") { Description = "Mergers (shards) per round", DefaultValueFactory = _ => 2 };
        var rounds = new System.CommandLine.Option<int>("--rounds") { Description = "Measured rounds after one warm-up round", DefaultValueFactory = _ => 3 };
        var command = new System.CommandLine.Command("bench-channels", "Per-round channel time and requests on s3 (the local folder store), redis and dynamodb, with local servers")
        {
            sizes, workers, shards, rounds,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (w, s, r) = (parse.GetValue(workers), parse.GetValue(shards), parse.GetValue(rounds));
            if (w < 1 || s < 1 || r < 1) throw new ArgumentException("--workers, --shards and --rounds must be at least 1");
            var document = await RunAsync(ParseSizes(parse.GetValue(sizes)!), w, s, r, Console.Error, ct).ConfigureAwait(false);
            Console.WriteLine(document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static readonly TimeSpan MeasurementLimit = TimeSpan.FromMinutes(5);

    public static async Task<JsonObject> RunAsync(IReadOnlyList<int> parameterCounts, int workers, int shards, int rounds, TextWriter progress, CancellationToken ct = default)
    {
        var scratch = Directory.CreateTempSubdirectory("stepml-bench-channels-").FullName;
        var results = new JsonArray();
        try
        {
            foreach (var kind in ChannelKinds.All)
            {
                using var server = StartServer(kind, scratch, out var skipped);
                if (skipped is not null)
                {
                    progress.WriteLine($"bench: channel {kind} skipped: {skipped}");
                    results.Add(new JsonObject { ["channel"] = kind, ["skipped"] = skipped });
                    continue;
                }
                foreach (var n in parameterCounts)
                {
                    progress.WriteLine($"bench: channel {kind}, {n:N0} parameters, {workers} workers, {shards} shards, {rounds} rounds");
                    var (channel, requests) = await OpenAsync(kind, server, scratch).ConfigureAwait(false);
                    // A server that stops answering (seen once with dynalite under heavy load at 10 M parameters) ends
                    // this measurement, not the benchmark.
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    deadline.CancelAfter(MeasurementLimit);
                    try
                    {
                        results.Add(await MeasureAsync(kind, channel, requests, n, workers, shards, rounds, deadline.Token).ConfigureAwait(false));
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        progress.WriteLine($"bench: channel {kind}, {n:N0} parameters: no result within {MeasurementLimit.TotalSeconds:F0} s");
                        results.Add(new JsonObject { ["channel"] = kind, ["parameters"] = n, ["timedOutSeconds"] = MeasurementLimit.TotalSeconds });
                        break;
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
        return new JsonObject
        {
            ["workers"] = workers,
            ["shards"] = shards,
            ["rounds"] = rounds,
            ["caution"] = Caution,
            ["results"] = results,
        };
    }

    private static LocalChannelServer? StartServer(string kind, string scratch, out string? skipped)
    {
        skipped = null;
        try
        {
            switch (kind)
            {
                case ChannelKinds.Redis:
                    return LocalChannelServer.StartRedis(Directory.CreateDirectory(Path.Combine(scratch, "redis")).FullName);
                case ChannelKinds.DynamoDb:
                    var dynalite = LocalChannelServer.StartDynalite(Environment.CurrentDirectory) ?? LocalChannelServer.StartDynalite(AppContext.BaseDirectory);
                    if (dynalite is null) skipped = "no node_modules/dynalite here or above the program (run `npm ci` in the repository)";
                    return dynalite;
                default:
                    return null;
            }
        }
        catch (InvalidOperationException e)
        {
            skipped = kind == ChannelKinds.Redis ? $"redis-server did not start ({e.Message.Split('\n')[0]}); apt-get install redis-server" : e.Message.Split('\n')[0];
            return null;
        }
    }

    /// <summary>The channel, and a counter of the requests that reach its server.</summary>
    private static async Task<(IChannel Channel, Func<long> Requests)> OpenAsync(string kind, LocalChannelServer? server, string scratch)
    {
        var ttl = TimeSpan.FromHours(1);
        switch (kind)
        {
            case ChannelKinds.Redis:
            {
                var channel = new CountingChannel(new RedisChannel(ChannelEndpoint.Parse(kind, $"127.0.0.1:{server!.Port}"), ttl));
                return (channel, () => channel.Calls);
            }
            case ChannelKinds.DynamoDb:
            {
                var endpoint = ChannelEndpoint.Parse(kind, $"http://127.0.0.1:{server!.Port}/bench-{Guid.NewGuid():N}"[..60]);
                var client = DynamoDbChannel.CreateClient(endpoint.ServiceUrl);
                await DynamoDbChannel.CreateTableAsync(client, endpoint.Table).ConfigureAwait(false);
                long requests = 0;
                ((AmazonServiceClient)client).BeforeRequestEvent += (_, _) => Interlocked.Increment(ref requests);
                return (new DynamoDbChannel(endpoint, ttl, client: client), () => Interlocked.Read(ref requests));
            }
            default:
            {
                var store = new CountingObjectStore(new FileObjectStore(Directory.CreateDirectory(Path.Combine(scratch, "s3-" + Guid.NewGuid().ToString("N"))).FullName));
                return (new ObjectStoreChannel(store), () => store.Count);
            }
        }
    }

    private static async Task<JsonObject> MeasureAsync(string kind, IChannel channel, Func<long> requests, int n, int workers, int shards, int rounds, CancellationToken ct)
    {
        var layout = ShardLayout.For(n, shards);
        var random = new Random(17);
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = (float)random.NextDouble();
        var statistic = TensorCodec.Encode(values, [n], 0, layout.BlockElements);
        var mergedShards = Enumerable.Range(0, shards).Select(s =>
        {
            var (start, length) = layout.ElementRange(s);
            return TensorCodec.Encode(values.AsSpan((int)start, (int)length), [(int)length], 0, layout.BlockElements);
        }).ToArray();
        var runId = "bench-" + kind;
        double write = 0, merge = 0, decide = 0;
        long before = 0;
        // Round 0 warms connections and servers and is not counted.
        for (var round = 0; round <= rounds; round++)
        {
            ct.ThrowIfCancellationRequested();
            if (round == 1) before = requests();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, workers).Select(p => channel.PutAsync(RunLayout.Statistic(runId, round, p), statistic, ct))).ConfigureAwait(false);
            var afterWrite = clock.Elapsed.TotalSeconds;
            await Task.WhenAll(Enumerable.Range(0, shards).Select(async s =>
            {
                var (first, count) = layout.Blocks(s);
                var (offset, length) = TensorCodec.BlockByteRange(layout.Elements, layout.BlockElements, first, count);
                for (var p = 0; p < workers; p++)
                    await channel.GetRangeAsync(RunLayout.Statistic(runId, round, p), offset, length, ct).ConfigureAwait(false);
                await channel.PutAsync(RunLayout.Merged(runId, round, s), mergedShards[s], ct).ConfigureAwait(false);
            })).ConfigureAwait(false);
            var afterMerge = clock.Elapsed.TotalSeconds;
            for (var s = 0; s < shards; s++)
                await channel.GetAsync(RunLayout.Merged(runId, round, s), ct).ConfigureAwait(false);
            if (channel.DeletesRounds && round > 0)
                await channel.DeleteRoundAsync(runId, round - 1, workers, shards, ct).ConfigureAwait(false);
            if (round == 0) continue;
            write += afterWrite;
            merge += afterMerge - afterWrite;
            decide += clock.Elapsed.TotalSeconds - afterMerge;
        }
        var written = (long)workers * statistic.Length + mergedShards.Sum(m => (long)m.Length);
        // Mergers together read every statistic's body once; Decide reads every merged shard.
        var read = (long)workers * (statistic.Length - TensorCodec.HeaderSize) + mergedShards.Sum(m => (long)m.Length);
        return new JsonObject
        {
            ["channel"] = kind,
            ["parameters"] = n,
            ["secondsPerRound"] = Measure.Round((write + merge + decide) / rounds, 4),
            ["workerWriteSeconds"] = Measure.Round(write / rounds, 4),
            ["mergeSeconds"] = Measure.Round(merge / rounds, 4),
            ["decideSeconds"] = Measure.Round(decide / rounds, 4),
            ["requestsPerRound"] = (requests() - before) / (double)rounds,
            ["megabytesWrittenPerRound"] = Measure.Round(written / 1e6, 3),
            ["megabytesReadPerRound"] = Measure.Round(read / 1e6, 3),
        };
    }

    public static IReadOnlyList<int> ParseSizes(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n
                : throw new ArgumentException($"--sizes: '{t}' is not a positive parameter count (e.g. --sizes 10000,1000000)"))
            .ToList();
}

/// <summary>Counts the calls made through a channel: for Redis each call is one command (GETRANGE of a present key,
/// SET, GET, and one DEL for a whole round).</summary>
internal sealed class CountingChannel(IChannel inner) : IChannel
{
    private long _calls;

    public long Calls => Interlocked.Read(ref _calls);

    public string Name => inner.Name;

    public bool DeletesRounds => inner.DeletesRounds;

    public Task PutAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.PutAsync(key, tensor, cancellationToken);
    }

    public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.GetAsync(key, cancellationToken);
    }

    public Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.GetRangeAsync(key, offset, length, cancellationToken);
    }

    public Task DeleteRoundAsync(string runId, long round, int partitions, int shards, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.DeleteRoundAsync(runId, round, partitions, shards, cancellationToken);
    }

    public bool SupportsRegisters => inner.SupportsRegisters;

    public Task<ChannelRegister?> ReadRegisterAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.ReadRegisterAsync(key, cancellationToken);
    }

    public Task<bool> TryWriteRegisterAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.TryWriteRegisterAsync(key, expectedVersion, value, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return inner.DeleteAsync(key, cancellationToken);
    }
}
