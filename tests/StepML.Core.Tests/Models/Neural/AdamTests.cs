using StepML.Core.Algorithms;
using StepML.Core.Jobs;

namespace StepML.Core.Tests.Models.Neural;

public class AdamTests
{
    private static readonly AlgorithmSpec Spec = new() { Type = AlgorithmTypes.GaSgd, Optimizer = Optimizers.Adam, LearningRate = 0.01 };

    [Fact]
    public void OptimizerStateStride_Adam_IsTwo() => Assert.Equal(2, new GaSgd(Spec, 0).OptimizerStateStride);

    [Fact]
    public void Update_ThreeRounds_MatchesTextbookAdam()
    {
        var adam = new GaSgd(Spec, l2: 0.1);
        float[] model = [0.5f, -1f, 2f];
        float[] mask = [1, 1, 0];
        float[][] gradients = [[0.3f, -0.2f, 1f], [0.1f, 0.4f, -2f], [-0.5f, 0.05f, 0.2f]];
        var state = new float[6];
        double[] w = [0.5, -1, 2], m = new double[3], v = new double[3];
        for (var round = 0; round < 3; round++)
        {
            var next = new float[3];
            var newState = new float[6];
            adam.Update(round, model, gradients[round], mask, state, newState, next);
            for (var i = 0; i < 3; i++)
            {
                var g = gradients[round][i] + 0.1 * mask[i] * w[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                var mHat = m[i] / (1 - Math.Pow(0.9, round + 1));
                var vHat = v[i] / (1 - Math.Pow(0.999, round + 1));
                w[i] -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
                Assert.Equal(w[i], next[i], 1e-5);
                Assert.Equal(m[i], newState[2 * i], 1e-6);
                Assert.Equal(v[i], newState[2 * i + 1], 1e-7);
            }
            (model, state) = (next, newState);
        }
    }

    [Fact]
    public void Update_ShardedState_EqualsWholeUpdate()
    {
        // Mergers update their shard with their slice of the (m, v) pairs: two halves give the whole update.
        var adam = new GaSgd(Spec, 0);
        float[] model = [1, 2, 3, 4], merged = [0.1f, -0.2f, 0.3f, -0.4f], mask = [1, 1, 1, 1];
        float[] state = [0.01f, 0.001f, 0.02f, 0.002f, -0.01f, 0.003f, 0.0f, 0.004f];
        var whole = new float[4];
        var wholeState = new float[8];
        adam.Update(5, model, merged, mask, state, wholeState, whole);
        var parts = new float[4];
        var partState = new float[8];
        adam.Update(5, model.AsSpan(0, 2), merged.AsSpan(0, 2), mask.AsSpan(0, 2), state.AsSpan(0, 4), partState.AsSpan(0, 4), parts.AsSpan(0, 2));
        adam.Update(5, model.AsSpan(2), merged.AsSpan(2), mask.AsSpan(2), state.AsSpan(4), partState.AsSpan(4), parts.AsSpan(2));
        Assert.Equal(whole, parts);
        Assert.Equal(wholeState, partState);
    }
}
