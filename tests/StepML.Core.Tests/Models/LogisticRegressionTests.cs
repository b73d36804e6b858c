using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Tests.Models;

public class LogisticRegressionTests
{
    // Row counts straddle the 256-row block (255, 257, 513 = 2·256 + 1) and feature counts are not multiples of any
    // SIMD width (4, 8, 16 floats).
    [Theory]
    [InlineData(1, 1)]
    [InlineData(255, 7)]
    [InlineData(257, 3)]
    [InlineData(513, 13)]
    [InlineData(300, 33)]
    public void LossAndGradient_RandomData_MatchesCentralFiniteDifferences(int rows, int features)
    {
        // Arrange
        var data = ModelTestData.Dense(rows, features, seed: (ulong)(rows * 31 + features));
        var model = new LogisticRegression(features);
        var w = ModelTestData.RandomParameters(features + 1, seed: 5, scale: 0.3);
        var gradient = new float[features + 1];
        var all = ModelTestData.AllRows(data);

        // Act
        model.LossAndGradient(w, data, RowSelection.All(data), gradient);

        // Assert: central differences of the double oracle with h = 1e-4 (truncation error O(h²) ≈ 1e-8); the
        // float kernel accumulates rounding of about 1e-6 relative, so 2e-5 absolute + 1e-4 relative is ample and
        // far below a wrong term (which shows up at the size of the gradient, ~1e-1).
        const double h = 1e-4;
        var wd = ModelTestData.ToDouble(w);
        for (var i = 0; i < wd.Length; i++)
        {
            var saved = wd[i];
            wd[i] = saved + h;
            var up = ModelTestData.Loss(wd, data, all);
            wd[i] = saved - h;
            var down = ModelTestData.Loss(wd, data, all);
            wd[i] = saved;
            var numeric = (up - down) / (2 * h);
            var tolerance = 2e-5 + 1e-4 * Math.Abs(numeric);
            Assert.InRange(gradient[i], numeric - tolerance, numeric + tolerance);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(255, 7)]
    [InlineData(257, 9)]
    [InlineData(769, 28)]
    public void LossAndGradient_RandomData_LossMatchesNaiveScalarOracle(int rows, int features)
    {
        // Arrange
        var data = ModelTestData.Dense(rows, features, seed: 11);
        var model = new LogisticRegression(features);
        var w = ModelTestData.RandomParameters(features + 1, seed: 12, scale: 0.5);

        // Act
        var loss = model.LossAndGradient(w, data, RowSelection.All(data), new float[features + 1]);
        var evaluation = model.Evaluate(w, data);

        // Assert: the kernel's margins are float dot products, so it agrees with the double oracle to ~1e-6 relative.
        var expected = ModelTestData.Loss(ModelTestData.ToDouble(w), data, ModelTestData.AllRows(data));
        Assert.InRange(loss, expected * (1 - 1e-5), expected * (1 + 1e-5));
        Assert.InRange(evaluation.MeanLoss, expected * (1 - 1e-5), expected * (1 + 1e-5));
        Assert.Equal(rows, evaluation.Rows);
    }

    [Fact]
    public void Evaluate_RandomData_CountsCorrectPredictionsLikeOracle()
    {
        var data = ModelTestData.Dense(333, 5, seed: 21);
        var model = new LogisticRegression(5);
        var w = ModelTestData.RandomParameters(6, seed: 22, scale: 1);

        var evaluation = model.Evaluate(w, data);

        var correct = 0;
        for (var r = 0; r < data.Rows; r++)
        {
            double z = w[5];
            for (var j = 0; j < 5; j++) z += (double)w[j] * data.DenseRow(r)[j];
            if ((z > 0 ? 1f : 0f) == data.Labels[r]) correct++;
        }
        Assert.Equal(correct, evaluation.CorrectSum);
        Assert.InRange(evaluation.Accuracy, correct / 333.0 - 1e-12, correct / 333.0 + 1e-12);
    }

    [Fact]
    public void LossAndGradient_RowsThroughOrderPermutation_EqualGatheredContiguousRows()
    {
        // Arrange: a selection of 300 rows (two blocks, the second partial) in permuted order.
        const int features = 11;
        var data = ModelTestData.Dense(600, features, seed: 31);
        var order = StepML.Core.Algorithms.MiniBatches.Permutation(data.Rows, seed: 32, partition: 0, epoch: 0);
        var selection = new RowSelection(Start: 57, Count: 300, Order: order);
        var labels = new float[300];
        var values = new float[300 * features];
        for (var i = 0; i < 300; i++)
        {
            labels[i] = data.Labels[order[57 + i]];
            data.DenseRow(order[57 + i]).CopyTo(values.AsSpan(i * features, features));
        }
        var gathered = Partition.CreateDense(features, labels, values);
        var model = new LogisticRegression(features);
        var w = ModelTestData.RandomParameters(features + 1, seed: 33, scale: 0.4);
        var viaOrder = new float[features + 1];
        var viaGather = new float[features + 1];

        // Act
        var lossOrder = model.LossAndGradient(w, data, selection, viaOrder);
        var lossGather = model.LossAndGradient(w, gathered, RowSelection.All(gathered), viaGather);

        // Assert: the same rows in the same sequence; only SIMD alignment may differ, so allow float rounding.
        Assert.InRange(lossOrder, lossGather - 1e-9, lossGather + 1e-9);
        for (var i = 0; i <= features; i++)
            Assert.InRange(viaOrder[i], viaGather[i] - 1e-6f, viaGather[i] + 1e-6f);
    }

    [Theory]
    [InlineData(100f)]
    [InlineData(1000f)]
    public void LossAndGradient_ExtremeMargins_FiniteAndExact(float margin)
    {
        // Arrange: one feature equal to 1 and w = (margin, 0), so rows get z = +margin or −margin, each with both labels.
        var data = Partition.CreateDense(1, [0f, 1f, 1f, 0f], [1f, 1f, -1f, -1f]);
        var model = new LogisticRegression(1);
        float[] w = [margin, 0f];
        var gradient = new float[2];

        // Act
        var loss = model.LossAndGradient(w, data, RowSelection.All(data), gradient);
        var evaluation = model.Evaluate(w, data);

        // Assert: the two wrong rows cost |z| each and the right ones ~e^-|z|; dloss/dz = σ(z) − y is 1, 0, −1, 0.
        Assert.True(double.IsFinite(loss));
        Assert.InRange(loss, margin / 2.0 - 1e-9, margin / 2.0 + 1e-9);
        Assert.InRange(evaluation.LossSum, 2.0 * margin - 1e-9, 2.0 * margin + 1e-9);
        Assert.Equal(2, evaluation.CorrectSum);
        Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
        Assert.InRange(gradient[0], (1f + 1f) / 4 - 1e-6f, (1f + 1f) / 4 + 1e-6f); // (1·1 + (−1)·(−1)) / 4
        Assert.InRange(gradient[1], -1e-6f, 1e-6f); // (1 + 0 − 1 + 0) / 4
    }

    [Fact]
    public void LossAndGradient_EmptySelection_ZeroGradientAndLoss()
    {
        var data = ModelTestData.Dense(10, 3, seed: 41);
        var gradient = new float[] { 9, 9, 9, 9 };

        var loss = new LogisticRegression(3).LossAndGradient([1, 2, 3, 4], data, new RowSelection(0, 0), gradient);

        Assert.Equal(0, loss);
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void LossAndGradient_MismatchedShapes_ThrowNamingSizes()
    {
        var data = ModelTestData.Dense(10, 3, seed: 42);
        var model = new LogisticRegression(3);

        var parameters = Assert.Throws<ArgumentException>(() => model.LossAndGradient(new float[3], data, RowSelection.All(data), new float[4]));
        var gradient = Assert.Throws<ArgumentException>(() => model.LossAndGradient(new float[4], data, RowSelection.All(data), new float[5]));
        var features = Assert.Throws<ArgumentException>(() => new LogisticRegression(4).Evaluate(new float[5], data));

        Assert.Contains("got 3", parameters.Message);
        Assert.Contains("gradient has 5", gradient.Message);
        Assert.Contains("partition has 3 features", features.Message);
    }

    [Fact]
    public void RegularizationMask_Always_ExcludesOnlyTheBias()
    {
        var mask = new float[6];

        new LogisticRegression(5).RegularizationMask(mask);

        Assert.Equal([1f, 1f, 1f, 1f, 1f, 0f], mask);
    }

    [Fact]
    public void Regularization_HandComputed_IsHalfLambdaMaskedSquaredNorm()
    {
        // (0.1 / 2)·(1² + (−2)² + 0·3²) = 0.25
        var value = StepML.Core.Models.Models.Regularization([1f, -2f, 3f], [1f, 1f, 0f], 0.1);

        Assert.InRange(value, 0.25 - 1e-12, 0.25 + 1e-12);
    }
}
