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
    public void GaSgdUpdate_WithL1AndMomentum_IsTheInertialProximalStep()
    {
        var ga = new GaSgd(new AlgorithmSpec { LearningRate = 0.5, Momentum = 0.9 }, l2: 0, l1: 0.1);
        float[] model = [1f, 0.02f, -1f];
        float[] gradient = [0.2f, 0f, -0.2f];
        float[] mask = [1, 1, 0];
        float[] previousStep = [0.1f, -0.2f, 0.1f];
        var next = new float[3];
        var step = new float[3];

        ga.Update(3, model, gradient, mask, previousStep, step, next);

        // S_{ηλ₁}(w − ηg + μd): 1 − 0.1 + 0.09 = 0.99 → 0.94; 0.02 − 0.18 = −0.16 → −0.11; unmasked −1 + 0.1 + 0.09.
        Assert.Equal(0.94f, next[0], 6);
        Assert.Equal(-0.11f, next[1], 6);
        Assert.Equal(-0.81f, next[2], 6);
        for (var i = 0; i < 3; i++) Assert.Equal(next[i] - model[i], step[i], 6);
    }

    [Fact]
    public void GaSgdUpdate_WithL1AndMomentum_FixedPointIsTheL1Optimum()
    {
        // f(w) = ½(w − 3)², λ₁ = 1: the optimum of f + λ₁|w| is w = 2. The old form (threshold after the gradient
        // momentum) settles at 3 − λ₁(1 − μ) = 2.9 instead.
        var ga = new GaSgd(new AlgorithmSpec { LearningRate = 0.1, Momentum = 0.9 }, l2: 0, l1: 1);
        float[] w = [0f];
        float[] state = [0f];
        float[] mask = [1f];
        var next = new float[1];
        var nextState = new float[1];
        for (var t = 0; t < 2000; t++)
        {
            ga.Update(t, w, [w[0] - 3f], mask, state, nextState, next);
            next.CopyTo(w, 0);
            nextState.CopyTo(state, 0);
        }

        Assert.Equal(2f, w[0], 4);
    }

    [Fact]
    public void ZeroCount_CountsOnlyRegularisedZeros() =>
        Assert.Equal(2, Proximal.ZeroCount([0f, 1f, 0f, 0f], [1, 1, 1, 0]));
}
