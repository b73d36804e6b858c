using StepML.Core.Algorithms;
using StepML.Core.Jobs;

namespace StepML.Core.Tests.Algorithms;

public sealed class AsyncUpdateTests
{
    [Fact]
    public void Apply_MaSgdUpdatesFromOneStart_SumToTheSynchronousAverage()
    {
        var algorithm = new MaSgd(new AlgorithmSpec { Type = AlgorithmTypes.MaSgd }, l2: 0);
        float[] start = [1f, -2f, 0.5f];
        float[][] locals = [[2f, -1f, 0.5f], [0f, -3f, 1.5f], [1f, 0f, -0.5f], [3f, -2f, 0.5f]];
        var model = start.ToArray();
        var next = new float[3];

        for (var w = 0; w < locals.Length; w++)
        {
            AsyncUpdate.Apply(algorithm, w, 3, locals.Length, locals[w], start, [1f, 1f, 0f], model, next);
            next.CopyTo(model, 0);
        }

        for (var i = 0; i < 3; i++)
            Assert.Equal(locals.Average(l => l[i]), model[i], 5);
    }

    [Fact]
    public void Apply_GaSgdWithMomentum_IsTheAlgorithmsUpdateOnModelAndState()
    {
        var algorithm = new GaSgd(new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, LearningRate = 0.1, Momentum = 0.9 }, l2: 0.01);
        float[] current = [1f, 2f, 0.3f, -0.4f];
        float[] gradient = [0.5f, -1f];
        float[] mask = [1f, 0f];
        var next = new float[4];

        AsyncUpdate.Apply(algorithm, 7, 2, 4, gradient, current.AsSpan(0, 2), mask, current, next);

        var expectedModel = new float[2];
        var expectedState = new float[2];
        algorithm.Update(7, current.AsSpan(0, 2), gradient, mask, current.AsSpan(2), expectedState, expectedModel);
        Assert.Equal([.. expectedModel, .. expectedState], next);
    }

    [Fact]
    public void Apply_ModelOfTheWrongLength_Throws()
    {
        var algorithm = new GaSgd(new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, Momentum = 0.9 }, l2: 0);

        Assert.Throws<ArgumentException>(() => AsyncUpdate.Apply(algorithm, 0, 2, 1, new float[2], new float[2], new float[2], new float[2], new float[2]));
    }
}
