using StepML.Core.Data;

namespace StepML.Core.Communication;

/// <summary>
/// Simulated unreliable network (seed 003: Yu et al., training over networks that drop worker–server messages with
/// probability p). Whether the statistic of <c>partition</c> to the merger of <c>shard</c> in <c>round</c> is lost is
/// a pure function of the job's seed and those three numbers, so a rerun, a retried merger or a second engine drops
/// exactly the same messages, and mergers of one round draw independently of each other.
/// </summary>
public static class MessageDrops
{
    // Separates this stream from the mini-batch and initialisation streams derived from the same seed.
    private const ulong Domain = 0x44524F504D534753UL; // "DROPMSGS"

    public static bool IsDropped(double dropRate, ulong seed, long round, int partition, int shard)
    {
        if (dropRate <= 0) return false;
        var x = seed ^ Domain;
        var h = Xoshiro256.SplitMix64(ref x);
        x = h ^ (ulong)round;
        h = Xoshiro256.SplitMix64(ref x);
        x = h ^ (ulong)(uint)partition;
        h = Xoshiro256.SplitMix64(ref x);
        x = h ^ (ulong)(uint)shard;
        h = Xoshiro256.SplitMix64(ref x);
        return (h >> 11) * (1.0 / (1UL << 53)) < dropRate;
    }
}
