using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using AlgorithmWorkerInput = StepML.Core.Algorithms.WorkerInput;

namespace StepML.Core.Tests.Algorithms;

public class AlgorithmTests
{
    private const int Features = 9;
    private const double L2 = 0.01;

    // Three partitions of unequal size, so the sample weights matter.
    private static readonly Partition[] s_partitions =
    [
        ModelTestData.Dense(120, Features, seed: 1),
        ModelTestData.Dense(301, Features, seed: 2),
        ModelTestData.Dense(57, Features, seed: 3),
    ];

    private static float[] Mask()
    {
        var mask = new float[Features + 1];
        new LogisticRegression(Features).RegularizationMask(mask);
        return mask;
    }

    /// <summary>One round as the pipeline runs it: Work per partition, weighted average in partition order, Update.</summary>
    private static float[] Round(IAlgorithm algorithm, float[] model, long round = 0)
    {
        var lr = new LogisticRegression(Features);
        var average = new WeightedAverage(model.Length);
        for (var p = 0; p < s_partitions.Length; p++)
        {
            var statistic = new float[model.Length];
            var result = algorithm.Work(new AlgorithmWorkerInput(lr, s_partitions[p], p, round, 42), model, [], [], statistic);
            average.Add(result.Samples, statistic);
        }
        var merged = new float[model.Length];
        average.WriteTo(merged);
        var next = new float[model.Length];
        algorithm.Update(0, model, merged, Mask(), [], [], next);
        return next;
    }

    [Fact]
    public void GaSgdAndMaSgd_FullBatchesOneLocalEpoch_SameModelAfterOneRound()
    {
        // Arrange: a non-zero start so the L2 term contributes.
        var spec = new AlgorithmSpec { LearningRate = 0.7, BatchSize = 0, LocalEpochs = 1 };
        var start = ModelTestData.RandomParameters(Features + 1, seed: 4, scale: 0.5);

        // Act
        var ga = Round(new GaSgd(spec, L2), start);
        var ma = Round(new MaSgd(spec, L2), start);

        // Assert: both are w − η(ḡ + λ·m∘w); they differ only in where float rounding happens.
        for (var i = 0; i < start.Length; i++)
        {
            Assert.InRange(ma[i], ga[i] - 1e-5f, ga[i] + 1e-5f);
            Assert.True(Math.Abs(ga[i] - start[i]) > 1e-4, $"parameter {i} did not move, so the comparison proves nothing");
        }
    }

    [Fact]
    public void GaSgdWork_FullBatch_StatisticIsMeanGradientAtGlobalModel()
    {
        var spec = new AlgorithmSpec { BatchSize = 0 };
        var model = ModelTestData.RandomParameters(Features + 1, seed: 5, scale: 0.5);
        var lr = new LogisticRegression(Features);
        var statistic = new float[Features + 1];
        var expected = new float[Features + 1];

        var result = new GaSgd(spec, L2).Work(new AlgorithmWorkerInput(lr, s_partitions[1], 1, 3, 42), model, [], [], statistic);

        var loss = lr.LossAndGradient(model, s_partitions[1], RowSelection.All(s_partitions[1]), expected);
        Assert.Equal(expected, statistic);
        Assert.Equal(301, result.Samples);
        Assert.Equal(loss, result.Loss);
    }

    [Fact]
    public void GaSgdWork_MiniBatch_UsesTheBatchOfStepEqualToRound()
    {
        // Arrange: 301 rows in batches of 50 → 7 batches per epoch; round 9 is batch 2 (rows 100..149) of epoch 1.
        var spec = new AlgorithmSpec { BatchSize = 50 };
        var model = ModelTestData.RandomParameters(Features + 1, seed: 6, scale: 0.5);
        var lr = new LogisticRegression(Features);
        var statistic = new float[Features + 1];
        int[]? order = null;
        long epoch = -1;
        var batch = MiniBatches.Batch(s_partitions[1], 50, 42, 1, 9, ref order, ref epoch);
        var expected = new float[Features + 1];
        lr.LossAndGradient(model, s_partitions[1], batch, expected);

        // Act
        var result = new GaSgd(spec, L2).Work(new AlgorithmWorkerInput(lr, s_partitions[1], 1, 9, 42), model, [], [], statistic);

        // Assert
        Assert.Equal(1, epoch);
        Assert.Equal(50, result.Samples);
        Assert.Equal(expected, statistic);
    }

    [Fact]
    public void GaSgdUpdate_Momentum_HeavyBallStepByHand()
    {
        // Arrange: η = 0.5, μ = 0.9, λ = 0.1; mask (1, 0).
        var ga = new GaSgd(new AlgorithmSpec { LearningRate = 0.5, Momentum = 0.9 }, 0.1);
        float[] w = [2f, 3f];
        float[] merged = [0.4f, -1f];
        float[] previous = [1f, 2f];
        var optimizer = new float[2];
        var next = new float[2];

        // Act
        ga.Update(1, w, merged, [1f, 0f], previous, optimizer, next);

        // Assert: v = 0.9·v + g + λ·m·w → (0.9 + 0.4 + 0.2, 1.8 − 1) = (1.5, 0.8); w − 0.5·v = (1.25, 2.6).
        Assert.Equal(1, ga.OptimizerStateStride);
        Assert.InRange(optimizer[0], 1.5f - 1e-6f, 1.5f + 1e-6f);
        Assert.InRange(optimizer[1], 0.8f - 1e-6f, 0.8f + 1e-6f);
        Assert.InRange(next[0], 1.25f - 1e-6f, 1.25f + 1e-6f);
        Assert.InRange(next[1], 2.6f - 1e-6f, 2.6f + 1e-6f);
    }

    [Fact]
    public void GaSgdUpdate_MomentumRoundZero_EmptyOptimizerStateIsZeroVelocity()
    {
        var ga = new GaSgd(new AlgorithmSpec { LearningRate = 0.5, Momentum = 0.9 }, 0);
        var optimizer = new float[1];
        var next = new float[1];

        ga.Update(0, [1f], [2f], [1f], [], optimizer, next);

        Assert.Equal(2f, optimizer[0]);
        Assert.Equal(0f, next[0]);
    }

    [Fact]
    public void AdmmUpdate_HandComputed_MatchesZUpdateFormula()
    {
        // Arrange: ρ = 0.5, λ = 0.1, mask (1, 1, 0).
        var admm = new Admm(new AlgorithmSpec { Rho = 0.5 }, 0.1);
        float[] merged = [1f, -2f, 3f];
        var z = new float[3];

        // Act
        admm.Update(0, [9f, 9f, 9f], merged, [1f, 1f, 0f], [], [], z);

        // Assert: z = ρ·s̄ / (λ·m + ρ) = 0.5/0.6 = 0.8333…, −1/0.6 = −1.6667…, and the unregularised bias is s̄ itself.
        Assert.InRange(z[0], 0.8333333f - 1e-6f, 0.8333333f + 1e-6f);
        Assert.InRange(z[1], -1.6666667f - 1e-6f, -1.6666667f + 1e-6f);
        Assert.Equal(3f, z[2]);
    }

    [Fact]
    public void AdmmWork_RoundZero_StartsAtGlobalModelWithZeroDual()
    {
        // Arrange: one full-batch epoch from x = z with centre z − 0 is one plain gradient step.
        var spec = new AlgorithmSpec { LearningRate = 0.3, BatchSize = 0, LocalEpochs = 1, Rho = 0.5 };
        var admm = new Admm(spec, L2);
        var lr = new LogisticRegression(Features);
        var z = ModelTestData.RandomParameters(Features + 1, seed: 7, scale: 0.5);
        var n = z.Length;
        var state = new float[admm.WorkerStateLength(n, rows: 0)];
        var statistic = new float[n];

        // Act
        var result = admm.Work(new AlgorithmWorkerInput(lr, s_partitions[0], 0, 0, 42), z, [], state, statistic);

        // Assert
        var g = new float[n];
        lr.LossAndGradient(z, s_partitions[0], RowSelection.All(s_partitions[0]), g);
        Assert.Equal(2 * n, state.Length);
        for (var i = 0; i < n; i++)
        {
            var x = z[i] - 0.3f * g[i];
            Assert.InRange(state[i], x - 1e-6f, x + 1e-6f);
            Assert.Equal(0f, state[n + i]);
            Assert.Equal(state[i], statistic[i]);
        }
        Assert.Equal(lr.Evaluate(z, s_partitions[0]).MeanLoss, result.Loss);
        Assert.Equal(120, result.Samples);
    }

    [Fact]
    public void AdmmWork_LaterRound_UpdatesDualThenWarmStartsFromPreviousX()
    {
        // Arrange
        var spec = new AlgorithmSpec { LearningRate = 0.3, BatchSize = 0, LocalEpochs = 1, Rho = 0.5 };
        var admm = new Admm(spec, L2);
        var lr = new LogisticRegression(Features);
        var n = Features + 1;
        var z = ModelTestData.RandomParameters(n, seed: 8, scale: 0.5);
        var xPrev = ModelTestData.RandomParameters(n, seed: 9, scale: 0.5);
        var uPrev = ModelTestData.RandomParameters(n, seed: 10, scale: 0.1);
        var previous = xPrev.Concat(uPrev).ToArray();
        var state = new float[2 * n];
        var statistic = new float[n];

        // Act
        admm.Work(new AlgorithmWorkerInput(lr, s_partitions[2], 2, 4, 42), z, previous, state, statistic);

        // Assert: u = u' + x' − z; x = x' − η(∇f(x') + ρ(x' − (z − u))); statistic = x + u.
        var g = new float[n];
        lr.LossAndGradient(xPrev, s_partitions[2], RowSelection.All(s_partitions[2]), g);
        for (var i = 0; i < n; i++)
        {
            var u = uPrev[i] + xPrev[i] - z[i];
            var x = xPrev[i] - 0.3f * (g[i] + 0.5f * (xPrev[i] - (z[i] - u)));
            Assert.InRange(state[n + i], u - 1e-6f, u + 1e-6f);
            Assert.InRange(state[i], x - 1e-5f, x + 1e-5f);
            Assert.InRange(statistic[i], x + u - 1e-5f, x + u + 1e-5f);
        }
    }

    [Fact]
    public void AdmmWork_SameInputsTwice_BitIdentical()
    {
        var spec = new AlgorithmSpec { LearningRate = 0.3, BatchSize = 16, LocalEpochs = 2, Rho = 0.5 };
        var admm = new Admm(spec, L2);
        var lr = new LogisticRegression(Features);
        var z = ModelTestData.RandomParameters(Features + 1, seed: 11, scale: 0.5);
        var input = new AlgorithmWorkerInput(lr, s_partitions[1], 1, 2, 42);
        float[] s1 = new float[Features + 1], s2 = new float[Features + 1], st1 = new float[2 * (Features + 1)], st2 = new float[2 * (Features + 1)];

        admm.Work(input, z, [], st1, s1);
        admm.Work(input, z, [], st2, s2);

        Assert.Equal(s1, s2);
        Assert.Equal(st1, st2);
    }

    [Fact]
    public void MaSgdWork_MiniBatchesOverSeveralEpochs_ReportsLossAtStartingModel()
    {
        var spec = new AlgorithmSpec { LearningRate = 0.3, BatchSize = 32, LocalEpochs = 3 };
        var lr = new LogisticRegression(Features);
        var w = ModelTestData.RandomParameters(Features + 1, seed: 12, scale: 0.5);
        var statistic = new float[Features + 1];

        var result = new MaSgd(spec, L2).Work(new AlgorithmWorkerInput(lr, s_partitions[1], 1, 0, 42), w, [], [], statistic);

        Assert.Equal(lr.Evaluate(w, s_partitions[1]).MeanLoss, result.Loss);
        Assert.Equal(301, result.Samples);
        Assert.True(lr.Evaluate(statistic, s_partitions[1]).MeanLoss < result.Loss, "three local epochs should lower the local loss");
    }

    [Theory]
    [InlineData("ga-sgd", typeof(GaSgd))]
    [InlineData("ma-sgd", typeof(MaSgd))]
    [InlineData("admm", typeof(Admm))]
    public void Create_AlgorithmType_BuildsMatchingClass(string type, Type expected)
    {
        var job = new JobSpec { Algorithm = new AlgorithmSpec { Type = type } };

        var algorithm = StepML.Core.Algorithms.Algorithms.Create(job);

        Assert.IsType(expected, algorithm);
        Assert.Equal(type, algorithm.Type);
    }
}
