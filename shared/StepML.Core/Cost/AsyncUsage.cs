namespace StepML.Core.Cost;

/// <summary>One asynchronous worker's loop as its stored count says (every invocation of this run, a resumed one's too).</summary>
/// <param name="Invocations">AsyncWork invocations.</param>
/// <param name="Seconds">Their measured seconds, summed.</param>
/// <param name="Updates">Updates the worker applied.</param>
/// <param name="Conflicts">Updates it applied again because another worker's came first.</param>
public sealed record AsyncWorkerUsage(long Invocations, double Seconds, long Updates, long Conflicts);

/// <summary>
/// What the asynchronous phase of a run (communication.synchronization "async") uses, counted like
/// <see cref="RoundUsage"/> from the states it enters and the requests each step makes.
/// </summary>
public static class AsyncUsage
{
    /// <summary>Standard transitions: AsyncWorkers, and per partition the STANDARD child's start, AsyncStart, AsyncWork
    /// and AsyncDone? per invocation, AsyncEnd; then Decide and Converged?.</summary>
    public static long Transitions(IReadOnlyList<AsyncWorkerUsage> workers) => 1 + workers.Sum(w => 3 + 2 * w.Invocations) + 2;

    /// <param name="shape">The round shape (partitions, channel, model bytes); the asynchronous model is the model and its
    /// optimizer state (<paramref name="stateBytes"/>).</param>
    /// <param name="phaseSeconds">The phase's wall time (the Redis channel is billed for the data it holds meanwhile).</param>
    public static ResourceUsage Of(RoundShape shape, DeployedMemory memory, IReadOnlyList<AsyncWorkerUsage> workers, long stateBytes,
        double decideSeconds, double phaseSeconds)
    {
        var p = shape.Partitions;
        long invocations = workers.Sum(w => w.Invocations);
        long attempts = workers.Sum(w => w.Updates + w.Conflicts);

        // Store (S3): each invocation reads and rewrites the worker's count; each worker reads its partition and
        // model/0.tensor once; Decide reads every count and writes model/1.tensor, the record, and reads and rewrites
        // metrics.jsonl (its evaluation reads of the partitions are cache hits in one process, and not counted).
        long gets = invocations + 2L * p + p + 1;
        long puts = invocations + 3;
        // Channel: per attempt at an update, read the register and the version it names, write a new version, swap the
        // register, delete the version replaced (or the own one, after a conflict); the first worker's initial version
        // (a PUT and a swap) and every worker's check of the register; Decide reads the register and the version.
        long channelReads = 2 * attempts + p + 2;
        long channelWrites = 2 * attempts + 2;
        long channelDeletes = attempts;
        long channelBytes = 2 * attempts * stateBytes + 2 * stateBytes;

        var usage = new ResourceUsage
        {
            Functions = new(StringComparer.Ordinal)
            {
                [DeployedMemory.Worker] = new(invocations, workers.Sum(w => w.Seconds), memory[DeployedMemory.Worker]),
                [DeployedMemory.Decide] = new(1, decideSeconds, memory[DeployedMemory.Decide]),
            },
            Transitions = Transitions(workers),
        };
        return shape.Channel switch
        {
            "dynamodb" => usage with
            {
                S3Gets = gets, S3Puts = puts, ChannelReads = channelReads, ChannelWrites = channelWrites + channelDeletes, ChannelBytes = channelBytes,
                ChannelWriteUnits = channelWrites + channelDeletes + attempts * stateBytes / 1024,
                ChannelReadUnits = channelReads + attempts * stateBytes / 4096,
            },
            "redis" => usage with
            {
                S3Gets = gets, S3Puts = puts, ChannelReads = channelReads, ChannelWrites = channelWrites + channelDeletes, ChannelBytes = channelBytes,
                ChannelGbHours = Math.Max(Pricing.ValkeyMinimumGb, 2.0 * stateBytes / 1e9) * Math.Max(phaseSeconds, 0) / 3600,
            },
            // The folder store (S3 itself is refused for "async"): priced as S3, whose DELETEs are free.
            _ => usage with { S3Gets = gets + channelReads, S3Puts = puts + channelWrites },
        };
    }
}
