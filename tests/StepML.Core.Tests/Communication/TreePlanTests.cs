using StepML.Core.Communication;

namespace StepML.Core.Tests.Communication;

public sealed class TreePlanTests
{
    [Theory]
    [InlineData(8, 2, new[] { 4, 2, 1 })]
    [InlineData(27, 3, new[] { 9, 3, 1 })]
    [InlineData(100, 5, new[] { 20, 4, 1 })]
    [InlineData(10, 3, new[] { 4, 2, 1 })]
    [InlineData(3, 5, new[] { 1 })]
    [InlineData(1, 2, new[] { 1 })]
    public void LevelSizes_PartitionsAndFanIn_CeilingDivisionDownToOneRoot(int partitions, int fanIn, int[] expected) =>
        Assert.Equal(expected, TreePlan.LevelSizes(partitions, fanIn));

    [Fact]
    public void Children_EveryChildHasExactlyOneParentInOrder()
    {
        // 10 partitions with fan-in 3: groups {0,1,2}, {3,4,5}, {6,7,8}, {9}.
        var covered = Enumerable.Range(0, 4).SelectMany(g =>
        {
            var (first, count) = TreePlan.Children(g, 3, 10);
            return Enumerable.Range(first, count);
        });

        Assert.Equal(Enumerable.Range(0, 10), covered);
        Assert.Equal((9, 1), TreePlan.Children(3, 3, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => TreePlan.Children(4, 3, 10));
    }

    [Fact]
    public void Levels_ListTheGroupsOfEachLevel() =>
        Assert.Equal([[0, 1, 2], [0]], TreePlan.Levels(7, 3));
}
