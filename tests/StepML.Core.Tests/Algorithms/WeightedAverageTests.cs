using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Algorithms;
using StepML.Core.Data;

namespace StepML.Core.Tests.Algorithms;

public class WeightedAverageTests
{
    private sealed record Contribution(int Partition, long Weight, float[] Values);

    // 1..12 contributors with distinct partition ids, weights spanning 1..10^6 and values spanning many magnitudes,
    // so double accumulation rounds and the order of additions could show in the last bits.
    private static readonly Gen<(Contribution[] Contributions, int[] Arrival)> s_rounds =
        from count in Gen.Choose(1, 12)
        from length in Gen.Choose(1, 37)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(count, length, (ulong)seed);

    private static (Contribution[], int[]) Build(int count, int length, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var contributions = new Contribution[count];
        for (var c = 0; c < count; c++)
        {
            var values = new float[length];
            for (var i = 0; i < length; i++) values[i] = (float)(rng.NextGaussian() * Math.Pow(10, rng.NextInt(9) - 4));
            contributions[c] = new Contribution(c * 3 + rng.NextInt(3), 1 + rng.NextInt(1_000_000), values);
        }
        var arrival = Enumerable.Range(0, count).ToArray();
        for (var i = count - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (arrival[i], arrival[j]) = (arrival[j], arrival[i]);
        }
        return (contributions, arrival);
    }

    private static float[] MergeSortedByPartition(IEnumerable<Contribution> arrived)
    {
        var list = arrived.OrderBy(c => c.Partition).ToList();
        var average = new WeightedAverage(list[0].Values.Length);
        foreach (var c in list) average.Add(c.Weight, c.Values);
        var result = new float[list[0].Values.Length];
        average.WriteTo(result);
        return result;
    }

    [Fact]
    public void WriteTo_ContributionsSortedByPartition_BitIdenticalWhateverTheArrivalOrder()
    {
        Prop.ForAll(s_rounds.ToArbitrary(), t =>
        {
            var inOrder = MergeSortedByPartition(t.Contributions);
            var shuffled = MergeSortedByPartition(t.Arrival.Select(i => t.Contributions[i]));
            var reversed = MergeSortedByPartition(t.Contributions.Reverse());
            return BitsEqual(inOrder, shuffled) && BitsEqual(inOrder, reversed);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void WriteTo_RandomContributions_IsTheWeightedMean()
    {
        Prop.ForAll(s_rounds.ToArbitrary(), t =>
        {
            var result = MergeSortedByPartition(t.Contributions);
            var total = t.Contributions.Sum(c => (double)c.Weight);
            for (var i = 0; i < result.Length; i++)
            {
                var expected = t.Contributions.Sum(c => c.Weight * (double)c.Values[i]) / total;
                // One float rounding of the double result, plus double cancellation relative to the largest term.
                var scale = t.Contributions.Max(c => Math.Abs((double)c.Values[i]));
                if (Math.Abs(result[i] - expected) > 1e-7 * Math.Abs(expected) + 1e-12 * scale) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void WriteTo_IllConditionedContributions_OrderOfAdditionChangesTheBits()
    {
        // Why mergers must add in partition order: in double, 1e20 + 1 − 1e20 is 0 but 1e20 − 1e20 + 1 is 1.
        var a = new WeightedAverage(1);
        var b = new WeightedAverage(1);
        a.Add(1, [1e20f]);
        a.Add(1, [1f]);
        a.Add(1, [-1e20f]);
        b.Add(1, [1e20f]);
        b.Add(1, [-1e20f]);
        b.Add(1, [1f]);
        var ra = new float[1];
        var rb = new float[1];

        a.WriteTo(ra);
        b.WriteTo(rb);

        Assert.Equal(0f, ra[0]);
        Assert.Equal(1f / 3, rb[0]);
    }

    [Fact]
    public void WriteTo_UnequalWeights_WeightsRespected()
    {
        // Arrange
        var average = new WeightedAverage(2);

        // Act: (3·(0, 8) + 1·(4, 0)) / 4 = (1, 6)
        average.Add(3, [0f, 8f]);
        average.Add(1, [4f, 0f]);
        var result = new float[2];
        average.WriteTo(result);

        // Assert
        Assert.Equal([1f, 6f], result);
        Assert.Equal(2, average.Contributors);
    }

    [Fact]
    public void WriteTo_NoContributors_ThrowsSayingEveryWorkerFailed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new WeightedAverage(3).WriteTo(new float[3]));

        Assert.Contains("every worker", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Add_InvalidWeight_Throws(double weight)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightedAverage(1).Add(weight, [1f]));
    }

    [Fact]
    public void Add_WrongLength_ThrowsNamingLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => new WeightedAverage(3).Add(1, [1f, 2f]));

        Assert.Contains("2 values, expected 3", e.Message);
    }

    private static bool BitsEqual(float[] a, float[] b) =>
        a.Length == b.Length && a.Zip(b).All(p => BitConverter.SingleToInt32Bits(p.First) == BitConverter.SingleToInt32Bits(p.Second));
}
