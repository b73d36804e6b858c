using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;

namespace StepML.Core.Tests.Algorithms;

public class SparseLocalSgdTests
{
    private const int Features = 3000;

    private static float[] Statistic(IAlgorithm algorithm, IModel model, Core.Data.Partition data, long round, float[] global, float[] previous)
    {
        var statistic = new float[model.ParameterCount];
        var state = new float[algorithm.WorkerStateLength(model.ParameterCount, data.Rows)];
        algorithm.Work(new WorkerInput(model, data, 1, round, 9), global, previous, state, statistic);
        return statistic;
    }

    [Fact]
    public void Applies_BatchTouchingMoreEntriesThanFeatures_KeepsTheDenseStep()
    {
        var data = LinearModelTests.RandomData(400, 100, 5, density: 0.2).Sparse;
        var model = new LogisticRegression(100);
        var mask = new float[101];
        model.RegularizationMask(mask);

        Assert.False(SparseLocalSgd.Applies(model, data, mask, new AlgorithmSpec { BatchSize = 100 }, 0.01f, 0));
        Assert.True(SparseLocalSgd.Applies(model, data, mask, new AlgorithmSpec { BatchSize = 2 }, 0.01f, 0));
    }

    [Theory]
    [InlineData("ma-sgd", "logistic", 64)]
    [InlineData("ma-sgd", "squared-hinge", 100)]
    [InlineData("admm", "logistic", 64)]
    [InlineData("admm", "hinge", 50)]
    [InlineData("admm", "logistic", 5)] // 160 steps: the scale s = 0.85^k falls below 1e-6 and is folded back into ŷ
    public void Work_LazySparseUpdates_MatchTheDenseUpdate(string algorithm, string loss, int batch)
    {
        // Arrange: sparse rows (0.3% dense, a batch touches fewer entries than there are features) and a non-zero
        // starting model, so decay and proximal terms matter.
        var data = LinearModelTests.RandomData(400, Features, 5, density: 0.003).Sparse;
        IModel model = loss == "logistic" ? new LogisticRegression(Features) : new LinearSvm(Features, loss);
        var spec = new AlgorithmSpec { Type = algorithm, LearningRate = 0.3, BatchSize = batch, LocalEpochs = 2, Rho = 0.5 };
        var global = ModelTestData.RandomParameters(Features + 1, 6, 0.2);
        IAlgorithm Create(SparseUpdates updates) => algorithm == "admm" ? new Admm(spec, 1e-2, sparseUpdates: updates) : new MaSgd(spec, 0.05, sparseUpdates: updates);
        var previous = algorithm == "admm" ? ModelTestData.RandomParameters(2 * (Features + 1), 7, 0.1) : [];
        var mask = new float[Features + 1];
        model.RegularizationMask(mask);
        Assert.True(SparseLocalSgd.Applies(model, data, mask, spec, algorithm == "admm" ? 0 : 0.05f, algorithm == "admm" ? 0.5f : 0), "the lazy path should apply here");

        // Act
        var lazy = Statistic(Create(SparseUpdates.Lazy), model, data, 3, global, previous);
        var dense = Statistic(Create(SparseUpdates.Dense), model, data, 3, global, previous);
        var again = Statistic(Create(SparseUpdates.Lazy), model, data, 3, global, previous);

        // Assert: the same iteration up to float rounding (the lazy form keeps ŷ in double), and bit-identical reruns.
        for (var j = 0; j <= Features; j++)
            Assert.InRange(lazy[j] - dense[j], -1e-4 - 1e-4 * Math.Abs(dense[j]), 1e-4 + 1e-4 * Math.Abs(dense[j]));
        Assert.Equal(lazy, again);
        Assert.True(lazy.Zip(global).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "the local steps should move the model");
    }
}
