using System.Collections.Concurrent;
using StepML.Core.Cost;
using StepML.Core.Jobs;
using StepML.Storage;
using StepML.Storage.Ledger;
using StepML.Storage.Channels;

namespace StepML.Functions;

/// <summary>
/// What every handler of one container shares: the store, the clock and the caches of immutable run objects
/// (job.json and partitions never change once Prepare wrote them). In Lambda it is built once per container from
/// the environment; locally one instance serves all handlers of the in-process engine.
/// </summary>
public sealed class FunctionContext
{
    private static readonly Lazy<FunctionContext> s_fromEnvironment = new(() => new FunctionContext(FunctionSettings.FromEnvironment()));

    public FunctionContext(FunctionSettings settings, IObjectStore? store = null, TimeProvider? time = null, IRunLedger? ledger = null)
    {
        Settings = settings;
        Store = store ?? ObjectStores.Open(settings.StoreUri);
        Time = time ?? TimeProvider.System;
        Cache = new RunCache(Store, settings.CacheBytes);
        // Opened on first use: Worker and Merge never touch the ledger (and their roles have no access to it).
        _ledger = new Lazy<IRunLedger>(() => ledger ?? RunLedgers.Open(settings.LedgerUri, Store, settings.DynamoDbEndpoint, Time));
    }

    private readonly Lazy<IRunLedger> _ledger;

    public static FunctionContext FromEnvironment() => s_fromEnvironment.Value;

    private readonly ConcurrentDictionary<(string Channel, string Endpoint), IChannel> _channels = new();

    /// <summary>The job's channel (communication.channel and endpoint), one instance per container.</summary>
    public IChannel Channel(JobSpec job) =>
        _channels.GetOrAdd((job.Communication.Channel, job.Communication.Endpoint), _ => ChannelFactory.Open(job.Communication, Store, Settings.Channels));

    private static readonly AsyncLocal<CancellationToken> s_invocation = new();

    /// <summary>Locally, the engine's cancellation of the invocation in flight (its timeout passed, its EXPRESS child
    /// ended, or the run was stopped): long work checks it and stops, as Lambda would stop the function. The local
    /// invoker sets it per call; in Lambda it is never cancelled.</summary>
    public static CancellationToken Invocation
    {
        get => s_invocation.Value;
        set => s_invocation.Value = value;
    }

    private static readonly Lazy<DeployedMemory> s_memory = new(() =>
        DeployedMemory.Of(FunctionSizes.Embedded(typeof(FunctionContext).Assembly)));

    /// <summary>The memory each function is deployed with (statemachines/functions.json), what its cost is billed at.</summary>
    public static DeployedMemory Memory => s_memory.Value;

    public FunctionSettings Settings { get; }
    public IObjectStore Store { get; }
    public TimeProvider Time { get; }
    /// <summary>Who owns each run (DESIGN.md, "One owner per run").</summary>
    public IRunLedger Ledger => _ledger.Value;
    internal RunCache Cache { get; }
}

/// <summary>Settings read once from the environment at the handler edge.</summary>
/// <param name="StoreUri">STEPML_STORE: <c>s3://bucket[/prefix]</c> in the cloud, a folder locally.</param>
/// <param name="MaxConcurrency">STEPML_MAX_CONCURRENCY: the cap on concurrent workers when a job sets none (0 = no cap).</param>
/// <param name="CacheBytes">STEPML_CACHE_MB: memory for cached partitions per container.</param>
/// <param name="Architecture">STEPML_ARCHITECTURE: x86_64 or arm64, for cost estimates.</param>
/// <param name="ToleratedFailurePercentage">STEPML_TOLERATED_FAILURE_PERCENTAGE: the default for jobs that set none.</param>
/// <param name="WorkerRoundSeconds">STEPML_WORKER_ROUND_SECONDS: how long a worker may compute in a round before it
/// writes its statistic (the stack sets it below the Worker's timeout; README "Limits"). 0: no budget.</param>
/// <param name="PartitionRangeBytes">STEPML_PARTITION_RANGE_MB: the byte range one Partition task reads (64 MiB: its
/// pieces then need at most about 128 MiB of /tmp, inside Lambda's default 512 MB). It never changes the partitions.</param>
/// <param name="LedgerUri">STEPML_LEDGER: the run ledger, <c>dynamodb://TABLE</c> in the cloud (see <see cref="RunLedgers"/>).</param>
/// <param name="DynamoDbEndpoint">STEPML_DYNAMODB_ENDPOINT: a DynamoDB-compatible server instead of AWS (tests).</param>
/// <param name="Process">The local process that runs the steps (<see cref="LocalProcess.Current"/>), recorded with a
/// claim so a resume can tell a dead owner; null in Lambda.</param>
/// <param name="ChannelDefaults">The stack's channel endpoints and key expiry (<see cref="Storage.Channels.ChannelDefaults"/>).</param>
public sealed record FunctionSettings(string StoreUri, int MaxConcurrency = 0, long CacheBytes = 1L << 30, string Architecture = "x86_64",
    double ToleratedFailurePercentage = 0, double WorkerRoundSeconds = FunctionSettings.DefaultWorkerRoundSeconds, long PartitionRangeBytes = 64L << 20,
    string? LedgerUri = null, string? DynamoDbEndpoint = null, string? Process = null, ChannelDefaults? ChannelDefaults = null)
{
    /// <summary>0.75 of the Worker's 240 s timeout (statemachines/functions.json), for a container without the variable.</summary>
    public const double DefaultWorkerRoundSeconds = 180;

    public ChannelDefaults Channels => ChannelDefaults ?? new ChannelDefaults();

    public static FunctionSettings FromEnvironment()
    {
        var store = Environment.GetEnvironmentVariable("STEPML_STORE");
        if (string.IsNullOrEmpty(store)) store = ObjectStores.DefaultFolder;
        return new FunctionSettings(
            store,
            ReadInt("STEPML_MAX_CONCURRENCY", 0),
            ReadInt("STEPML_CACHE_MB", 1024) * (1L << 20),
            Environment.GetEnvironmentVariable("STEPML_ARCHITECTURE") ?? "x86_64",
            ReadInt("STEPML_TOLERATED_FAILURE_PERCENTAGE", 0),
            ReadInt("STEPML_WORKER_ROUND_SECONDS", (int)DefaultWorkerRoundSeconds),
            Math.Max(1, ReadInt("STEPML_PARTITION_RANGE_MB", 64)) * (1L << 20),
            Environment.GetEnvironmentVariable(RunLedgers.Variable),
            Environment.GetEnvironmentVariable(DynamoDbRunLedger.EndpointVariable),
            ChannelDefaults: new ChannelDefaults(
                Environment.GetEnvironmentVariable("STEPML_REDIS_ENDPOINT") ?? "",
                Environment.GetEnvironmentVariable("STEPML_CHANNEL_TABLE") ?? "",
                ReadInt("STEPML_CHANNEL_TTL_HOURS", 0) is > 0 and var hours ? TimeSpan.FromHours(hours) : null));
    }

    private static int ReadInt(string name, int fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(text)) return fallback;
        return int.TryParse(text, out var value) && value >= 0
            ? value
            : throw new InvalidOperationException($"environment variable {name}='{text}' must be a whole number ≥ 0");
    }
}
