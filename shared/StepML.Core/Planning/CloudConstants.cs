namespace StepML.Core.Planning;

/// <summary>
/// The cloud figures <c>stepml plan</c> assumes besides prices (those are in <see cref="Cost.Pricing"/>). Each default
/// names its source; every one can be overridden (<c>stepml plan --constants FILE</c>, a JSON object of these names in
/// camelCase), and <c>--from RUN</c> refits <see cref="ComputeScale"/>, <see cref="RoundOverheadSeconds"/> and
/// <see cref="ColdStartSeconds"/> from a finished run's records (<see cref="Refit"/>).
/// </summary>
public sealed record CloudConstants
{
    /// <summary>Lambda seconds per second of this machine's single-core compute, at one full vCPU. 1 until a run says
    /// otherwise (Lambda's x86 vCPUs are server cores of the same generation as a developer machine's).</summary>
    public double ComputeScale { get; init; } = 1.0;

    /// <summary>Memory at which a function gets one full vCPU, and the vCPUs at 10,240 MB
    /// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).</summary>
    public int MegabytesPerVcpu { get; init; } = 1769;
    public double MaxVcpus { get; init; } = 6;

    /// <summary>Threads a worker's kernels use. StepML's kernels run on one thread per worker, so memory above one
    /// vCPU buys no speed; a multi-threaded kernel would raise this.</summary>
    public double WorkerThreads { get; init; } = 1;

    /// <summary>Object-store request latency and one function's throughput to S3: LambdaML §5 reports Lambda-to-EC2
    /// bandwidth up to 70 MB/s; S3's first-byte latency for small objects is tens of milliseconds
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).</summary>
    public double S3LatencySeconds { get; init; } = 0.03;
    public double S3BytesPerSecond { get; init; } = 70e6;

    /// <summary>Redis (ElastiCache) round trip inside a VPC, sub-millisecond, and the same per-function network limit.</summary>
    public double RedisLatencySeconds { get; init; } = 0.001;
    public double RedisBytesPerSecond { get; init; } = 70e6;

    /// <summary>DynamoDB single-digit-millisecond requests (https://aws.amazon.com/dynamodb/), items under 400 KB.</summary>
    public double DynamoDbLatencySeconds { get; init; } = 0.008;
    public double DynamoDbBytesPerSecond { get; init; } = 20e6;

    /// <summary>Step Functions time per round on the critical path besides the functions: the Distributed Map's start
    /// and its children's scheduling, the inline Merge map, the Choice states and the Task dispatches. An assumption
    /// (about 0.1 s per Task or Map dispatch) until <c>--from RUN</c> measures it.</summary>
    public double RoundOverheadSeconds { get; init; } = 0.6;

    /// <summary>First invocation of a container (the managed .NET runtime, ReadyToRun, assemblies loaded): about a
    /// second (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); paid once per worker
    /// in the first round.</summary>
    public double ColdStartSeconds { get; init; } = 1.0;

    /// <summary>A VM's start before it trains: boot and loading the data (EC2 bills at least 60 s).</summary>
    public double VmStartSeconds { get; init; } = 90;

    /// <summary>The Worker's round budget (functions.json: 0.75 × 240 s): local work stops there.</summary>
    public double WorkerRoundSeconds { get; init; } = 180;

    /// <summary>Workers' concurrency: the account's Lambda concurrency limit, 1,000 by default.</summary>
    public int MaxConcurrentWorkers { get; init; } = 1000;
}
