namespace StepML.Core.Communication;

/// <summary>
/// The levels of tree aggregation (Feng et al. 2018, "Exploiting Spot and Burstable Instances...": a hierarchy of
/// parameter servers with a fixed fan-in per level, e.g. 100 → 22 → 5 → 1): level 0 has ⌈P/f⌉ mergers, each combining
/// the statistics of f consecutive partitions; level l has ⌈n_{l−1}/f⌉ mergers, each combining f consecutive groups
/// of level l − 1; the last level has one merger, which applies the update. Children are always combined in index
/// order, so the summation order, and with it every bit of the result, is fixed by (P, f) alone.
/// </summary>
public static class TreePlan
{
    /// <summary>Mergers per level, from level 0 to the single root; one level when P ≤ f.</summary>
    public static int[] LevelSizes(int partitions, int fanIn)
    {
        if (partitions < 1) throw new ArgumentOutOfRangeException(nameof(partitions), partitions, "must be ≥ 1");
        if (fanIn < 2) throw new ArgumentOutOfRangeException(nameof(fanIn), fanIn, "must be ≥ 2");
        var sizes = new List<int>();
        var count = partitions;
        do
        {
            count = (count + fanIn - 1) / fanIn;
            sizes.Add(count);
        } while (count > 1);
        return [.. sizes];
    }

    /// <summary>The children [first, first + count) of <paramref name="group"/>: partitions at level 0, groups of the
    /// level below otherwise; <paramref name="childCount"/> is how many there are (P, or n_{l−1}).</summary>
    public static (int First, int Count) Children(int group, int fanIn, int childCount)
    {
        var first = group * fanIn;
        if (group < 0 || first >= childCount) throw new ArgumentOutOfRangeException(nameof(group), group, $"no children among {childCount} with fan-in {fanIn}");
        return (first, Math.Min(fanIn, childCount - first));
    }

    /// <summary>The groups of every level as lists of indices: the items each level's Map iterates over.</summary>
    public static int[][] Levels(int partitions, int fanIn) =>
        [.. LevelSizes(partitions, fanIn).Select(size => Enumerable.Range(0, size).ToArray())];
}
