namespace StepML.Core.Cost;

/// <summary>One Lambda function's invocations and billed seconds at the memory size it is deployed with.</summary>
public sealed record FunctionUsage(long Invocations, double Seconds, int MemoryMb)
{
    public double GbSeconds => Seconds * MemoryMb / 1024.0;
}

/// <summary>
/// What a run (or a part of it: a round, Prepare, Finalize) used of each billed AWS resource, before prices.
/// Parts add up (<see cref="Plus"/>); <see cref="CostModel.Price"/> turns the sum into dollars. Every count is of
/// requests the code path makes (S3 and channel requests are counted per step from what the step reads and writes,
/// see <see cref="RoundUsage"/>), every duration one a function measured.
/// </summary>
public sealed record ResourceUsage
{
    public static readonly ResourceUsage None = new();

    /// <summary>By function name (Prepare, Partition, Worker, Merge, Decide, Finalize).</summary>
    public Dictionary<string, FunctionUsage> Functions { get; init; } = new(StringComparer.Ordinal);
    /// <summary>S3 PUT (and COPY, POST, LIST) requests.</summary>
    public long S3Puts { get; init; }
    /// <summary>S3 GET requests (and ranged GETs).</summary>
    public long S3Gets { get; init; }
    /// <summary>Standard-workflow state transitions: every state entered, plus one per child execution a Distributed
    /// Map starts (inline Map iterations are not charged, the states inside them are).</summary>
    public long Transitions { get; init; }
    public long ExpressExecutions { get; init; }
    /// <summary>Billed GB-seconds of EXPRESS child executions (<see cref="Pricing.ExpressGbSeconds"/>).</summary>
    public double ExpressGbSeconds { get; init; }
    /// <summary>Requests to a Redis or DynamoDB channel, and the bytes they moved.</summary>
    public long ChannelReads { get; init; }
    public long ChannelWrites { get; init; }
    public long ChannelBytes { get; init; }
    /// <summary>DynamoDB: on-demand read and write request units.</summary>
    public long ChannelReadUnits { get; init; }
    public long ChannelWriteUnits { get; init; }
    /// <summary>Redis (ElastiCache Serverless): GB-hours of data stored, at least the 100 MB minimum for every hour.</summary>
    public double ChannelGbHours { get; init; }

    // Records compare the dictionary by reference; usage compares by content (a resumed state equals the recorded one).
    public bool Equals(ResourceUsage? other) =>
        other is not null && S3Puts == other.S3Puts && S3Gets == other.S3Gets && Transitions == other.Transitions
        && ExpressExecutions == other.ExpressExecutions && ExpressGbSeconds.Equals(other.ExpressGbSeconds)
        && ChannelReads == other.ChannelReads && ChannelWrites == other.ChannelWrites && ChannelBytes == other.ChannelBytes
        && ChannelReadUnits == other.ChannelReadUnits && ChannelWriteUnits == other.ChannelWriteUnits && ChannelGbHours.Equals(other.ChannelGbHours)
        && Functions.Count == other.Functions.Count
        && Functions.All(f => other.Functions.TryGetValue(f.Key, out var o) && o == f.Value);

    public override int GetHashCode() => HashCode.Combine(Functions.Count, S3Puts, S3Gets, Transitions, ExpressExecutions, ChannelReads, ChannelWrites);

    public static ResourceUsage Function(string name, long invocations, double seconds, int memoryMb) =>
        new() { Functions = new(StringComparer.Ordinal) { [name] = new FunctionUsage(invocations, seconds, memoryMb) } };

    public ResourceUsage Plus(ResourceUsage other)
    {
        var functions = new Dictionary<string, FunctionUsage>(Functions, StringComparer.Ordinal);
        foreach (var (name, f) in other.Functions)
            functions[name] = functions.TryGetValue(name, out var mine)
                // A job may override a memory size mid-run (a resume with another job is refused, so this is the catalog
                // changing): GB-seconds are kept exact by carrying the seconds at the newer size.
                ? new FunctionUsage(mine.Invocations + f.Invocations, mine.Seconds + f.Seconds * f.MemoryMb / (double)Math.Max(mine.MemoryMb, 1), mine.MemoryMb)
                : f;
        return new ResourceUsage
        {
            Functions = functions,
            S3Puts = S3Puts + other.S3Puts,
            S3Gets = S3Gets + other.S3Gets,
            Transitions = Transitions + other.Transitions,
            ExpressExecutions = ExpressExecutions + other.ExpressExecutions,
            ExpressGbSeconds = ExpressGbSeconds + other.ExpressGbSeconds,
            ChannelReads = ChannelReads + other.ChannelReads,
            ChannelWrites = ChannelWrites + other.ChannelWrites,
            ChannelBytes = ChannelBytes + other.ChannelBytes,
            ChannelReadUnits = ChannelReadUnits + other.ChannelReadUnits,
            ChannelWriteUnits = ChannelWriteUnits + other.ChannelWriteUnits,
            ChannelGbHours = ChannelGbHours + other.ChannelGbHours,
        };
    }

    /// <summary>This usage <paramref name="times"/> over (a plan's identical rounds).</summary>
    public ResourceUsage Times(long times) => new()
    {
        Functions = Functions.ToDictionary(f => f.Key, f => f.Value with { Invocations = f.Value.Invocations * times, Seconds = f.Value.Seconds * times }, StringComparer.Ordinal),
        S3Puts = S3Puts * times,
        S3Gets = S3Gets * times,
        Transitions = Transitions * times,
        ExpressExecutions = ExpressExecutions * times,
        ExpressGbSeconds = ExpressGbSeconds * times,
        ChannelReads = ChannelReads * times,
        ChannelWrites = ChannelWrites * times,
        ChannelBytes = ChannelBytes * times,
        ChannelReadUnits = ChannelReadUnits * times,
        ChannelWriteUnits = ChannelWriteUnits * times,
        ChannelGbHours = ChannelGbHours * times,
    };

    public static ResourceUsage Sum(IEnumerable<ResourceUsage?> parts)
    {
        var total = None;
        foreach (var part in parts)
            if (part is not null) total = total.Plus(part);
        return total;
    }
}
