using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Cli.Tests.Bench;

/// <summary>The SIMD logistic-regression kernel that `stepml bench` drove to memory speed, against a plain
/// double-precision loop: feature counts around the SIMD width and chunk size, row counts that are not multiples of
/// the vector or the block, permuted and offset row selections (the mini-batch path), the last rows of the array
/// (read without running past it) and margins large enough to hit the exp clamp.</summary>
public class LogisticKernelOracleTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(7, 257)]
    [InlineData(8, 300)]
    [InlineData(28, 1001)]
    [InlineData(33, 515)]
    [InlineData(64, 77)]
    [InlineData(70, 260)]
    public void LossAndGradient_AnyShape_MatchesDoubleOracle(int features, int rows)
    {
        var (data, parameters) = Problem(features, rows, scale: 1f, seed: (ulong)(features * 1000 + rows));
        var model = new LogisticRegression(features);
        foreach (var selection in Selections(rows, seed: 5))
        {
            var gradient = new float[features + 1];
            var loss = model.LossAndGradient(parameters, data, selection, gradient);
            var (expectedLoss, expectedGradient) = Oracle(data, parameters, selection);
            Assert.InRange(loss, expectedLoss - 1e-5 * Math.Max(1, expectedLoss), expectedLoss + 1e-5 * Math.Max(1, expectedLoss));
            for (var j = 0; j <= features; j++)
                Assert.InRange(gradient[j], expectedGradient[j] - 1e-5, expectedGradient[j] + 1e-5);
        }
    }

    [Fact]
    public void LossAndGradient_HugeMargins_StaysFiniteAndMatchesOracle()
    {
        // |z| up to a few hundred: e^−|z| underflows, the loss is max(z,0) − y·z to float precision.
        var (data, parameters) = Problem(28, 300, scale: 40f, seed: 9);
        var model = new LogisticRegression(28);
        var gradient = new float[29];
        var all = RowSelection.All(data);
        var loss = model.LossAndGradient(parameters, data, all, gradient);
        var (expectedLoss, expectedGradient) = Oracle(data, parameters, all);
        Assert.InRange(loss, expectedLoss * (1 - 1e-5), expectedLoss * (1 + 1e-5));
        for (var j = 0; j < gradient.Length; j++)
            Assert.InRange(gradient[j], expectedGradient[j] - 1e-5, expectedGradient[j] + 1e-5);
    }

    [Theory]
    [InlineData(5, 13)]
    [InlineData(28, 1001)]
    [InlineData(40, 300)]
    public void Evaluate_AnyShape_MatchesDoubleOracle(int features, int rows)
    {
        var (data, parameters) = Problem(features, rows, scale: 1f, seed: 3);
        var evaluation = new LogisticRegression(features).Evaluate(parameters, data);
        var (expectedLoss, _) = Oracle(data, parameters, RowSelection.All(data));
        var expectedCorrect = 0;
        for (var r = 0; r < rows; r++)
            if ((Margin(data, parameters, r) > 0 ? 1f : 0f) == data.Labels[r]) expectedCorrect++;
        Assert.Equal(rows, evaluation.Rows);
        Assert.InRange(evaluation.MeanLoss, expectedLoss - 1e-5, expectedLoss + 1e-5);
        Assert.InRange(evaluation.CorrectSum, expectedCorrect - 1, expectedCorrect + 1);
    }

    [Fact]
    public void LossAndGradient_NonFiniteValueInNextRow_DoesNotLeakIntoThisRow()
    {
        // Row 0 has 28 features read as 4 vectors of 8: the last 4 lanes belong to row 1, whose values are masked.
        var (data, parameters) = Problem(28, 300, scale: 1f, seed: 4);
        data.Dense![28] = float.PositiveInfinity;
        var gradient = new float[29];
        var loss = new LogisticRegression(28).LossAndGradient(parameters, data, new RowSelection(0, 1), gradient);
        var (expectedLoss, _) = Oracle(data, parameters, new RowSelection(0, 1));
        Assert.InRange(loss, expectedLoss - 1e-5, expectedLoss + 1e-5);
    }

    private static IEnumerable<RowSelection> Selections(int rows, ulong seed)
    {
        yield return new RowSelection(0, rows);
        if (rows > 2) yield return new RowSelection(1, rows - 2);
        var order = Enumerable.Range(0, rows).ToArray();
        var random = new Xoshiro256(seed);
        for (var i = rows - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        yield return new RowSelection(0, rows, order);
        if (rows > 4) yield return new RowSelection(rows / 3, rows - rows / 3, order);
    }

    private static (Partition Data, float[] Parameters) Problem(int features, int rows, float scale, ulong seed)
    {
        var random = new Xoshiro256(seed);
        var values = new float[rows * features];
        for (var i = 0; i < values.Length; i++) values[i] = 2 * random.NextFloat() - 1;
        var labels = new float[rows];
        for (var i = 0; i < rows; i++) labels[i] = random.NextFloat() < 0.5f ? 0f : 1f;
        var parameters = new float[features + 1];
        for (var i = 0; i < parameters.Length; i++) parameters[i] = scale * (random.NextFloat() - 0.5f);
        return (Partition.CreateDense(features, labels, values), parameters);
    }

    private static double Margin(Partition data, float[] parameters, int row)
    {
        var d = data.Features;
        double z = parameters[d];
        for (var j = 0; j < d; j++) z += (double)parameters[j] * data.Dense![row * d + j];
        return z;
    }

    private static (double Loss, double[] Gradient) Oracle(Partition data, float[] parameters, RowSelection rows)
    {
        var d = data.Features;
        var gradient = new double[d + 1];
        double loss = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows.RowAt(i);
            var z = Margin(data, parameters, r);
            var y = data.Labels[r];
            loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - y * z;
            var g = 1 / (1 + Math.Exp(-z)) - y;
            for (var j = 0; j < d; j++) gradient[j] += g * data.Dense![r * d + j];
            gradient[d] += g;
        }
        for (var j = 0; j <= d; j++) gradient[j] /= rows.Count;
        return (loss / rows.Count, gradient);
    }
}
