using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Algorithms;
using StepML.Core.Jobs;

namespace StepML.Core.Tests.Algorithms;

public sealed class ProximalTests
{
    [Theory]
    [InlineData(3f, 1f, 2f)]
    [InlineData(-3f, 1f, -2f)]
    [InlineData(0.5f, 1f, 0f)]
    [InlineData(-1f, 1f, 0f)]
    [InlineData(-0.75f, 0f, -0.75f)]
    public void SoftThreshold_Values_ShrinkTowardsZero(float v, float t, float expected) =>
        Assert.Equal(expected, Proximal.SoftThreshold(v, t));

    [Fact]
    public void SoftThreshold_Property_MinimisesTheProximalObjective()
    {
        // S_t(v) = argmin_x t|x| + ½(x − v)²: no nearby x does better.
        Prop.ForAll(Gen.Choose(-1000, 1000).ToArbitrary(), Gen.Choose(0, 500).ToArbitrary(), (vi, ti) =>
        {
            float v = vi / 100f, t = ti / 100f;
            var x = Proximal.SoftThreshold(v, t);
            double F(double z) => t * Math.Abs(z) + 0.5 * (z - v) * (z - v);
            return F(x) <= F(x + 1e-3) + 1e-9 && F(x) <= F(x - 1e-3) + 1e-9;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AdmmUpdate_WithL1_SoftThresholdsTheConsensus()
    {
        var admm = new Admm(new AlgorithmSpec { Rho = 0.5 }, l2: 0.1, l1: 0.2);
        float[] model = [0, 0, 0, 0];
        float[] merged = [1f, 0.2f, -1f, 0.3f];
        float[] mask = [1, 1, 1, 0];
        var next = new float[4];

        admm.Update(0, model, merged, mask, [], [], next);

        // z = S_{λ₁m}(ρs̄)/(λ₂m + ρ): (0.5 − 0.2)/0.6, 0 (|0.1| ≤ 0.2), −0.3/0.6; the bias is not thresholded.
        Assert.Equal(0.3f / 0.6f, next[0], 6);
        Assert.Equal(0f, next[1]);
        Assert.Equal(-0.3f / 0.6f, next[2], 6);
        Assert.Equal(0.15f / 0.5f, next[3], 6);
    }

    [Fact]
    public void GaSgdUpdate_WithL1_TakesAProximalStep()
    {
        var ga = new GaSgd(new AlgorithmSpec { LearningRate = 0.5 }, l2: 0, l1: 0.1);
        float[] model = [1f, 0.02f, -1f];
        float[] gradient = [0.2f, 0f, -0.2f];
        float[] mask = [1, 1, 0];
        var next = new float[3];

        ga.Update(0, model, gradient, mask, [], [], next);

        // w − ηg, then shrink by ηλ₁ = 0.05 where the mask is 1.
        Assert.Equal(0.85f, next[0], 6);
        Assert.Equal(0f, next[1]);
        Assert.Equal(-0.9f, next[2], 6);
    }

    [Fact]
    public void ZeroCount_CountsOnlyRegularisedZeros() =>
        Assert.Equal(2, Proximal.ZeroCount([0f, 1f, 0f, 0f], [1, 1, 1, 0]));
}
