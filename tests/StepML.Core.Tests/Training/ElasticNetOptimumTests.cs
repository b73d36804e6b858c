using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Training;

public sealed class ElasticNetOptimumTests
{
    [Theory]
    [InlineData(LinearLoss.Logistic)]
    [InlineData(LinearLoss.SquaredHinge)]
    public void Solve_NoL1_MatchesLbfgs(LinearLoss loss)
    {
        var (_, sparse) = LinearModelTests.RandomData(400, 9, seed: 31, density: 0.6);

        var fista = ElasticNetOptimum.Solve([sparse], loss, 1e-2, 0);
        var lbfgs = LinearOptimum.Solve([sparse], loss, 1e-2);

        Assert.Equal(lbfgs.Objective, fista.Objective, 9);
    }

    [Theory]
    [InlineData(LinearLoss.Logistic, false)]
    [InlineData(LinearLoss.Logistic, true)]
    [InlineData(LinearLoss.SquaredHinge, false)]
    public void Solve_WithL1_MeetsTheSubgradientOptimalityConditions(LinearLoss loss, bool sparseData)
    {
        const double l1 = 0.02, l2 = 1e-3;
        var (dense, sparse) = LinearModelTests.RandomData(500, 12, seed: 32, density: 0.5);
        Partition[] parts = [sparseData ? sparse : dense];

        var result = ElasticNetOptimum.Solve(parts, loss, l2, l1);

        // 0 ∈ ∇f(w) + λ₁∂‖w‖₁: ∇_j f = −λ₁·sign(w_j) where w_j ≠ 0, |∇_j f| ≤ λ₁ where w_j = 0, ∇_b f = 0.
        var gradient = new double[result.Parameters.Length];
        LinearOptimum.Evaluate(parts, loss, l2, result.Parameters, gradient);
        var d = result.Parameters.Length - 1;
        for (var j = 0; j < d; j++)
        {
            var w = result.Parameters[j];
            if (w == 0) Assert.True(Math.Abs(gradient[j]) <= l1 + 1e-7, $"weight {j} is 0 but |∇f| = {Math.Abs(gradient[j])} > λ₁");
            else Assert.InRange(gradient[j] + l1 * Math.Sign(w), -1e-7, 1e-7);
        }
        Assert.InRange(gradient[d], -1e-7, 1e-7);
        // This λ₁ is large enough to zero some, not all, weights: the test sees both branches.
        Assert.InRange(result.ZeroWeights, 1, d - 1);
    }

    [Fact]
    public void Objective_FloatParameters_AddsTheL1Term()
    {
        var (dense, _) = LinearModelTests.RandomData(100, 4, seed: 33);
        float[] w = [0.5f, -0.25f, 0, 1, 0.125f];

        var withL1 = ElasticNetOptimum.Objective([dense], LinearLoss.Logistic, 1e-3, 0.1, w);
        var without = LinearOptimum.Objective([dense], LinearLoss.Logistic, 1e-3, w);

        // The bias (last value) is outside the penalty: 0.1 · (0.5 + 0.25 + 0 + 1).
        Assert.Equal(without + 0.175, withL1, 12);
    }

    [Fact]
    public void Regularization_WithL1_MatchesTheReferenceTerm()
    {
        float[] w = [0.5f, -0.25f, 0, 1, 0.125f];
        float[] mask = [1, 1, 1, 1, 0];

        var value = StepML.Core.Models.Models.Regularization(w, mask, l2: 0.2, l1: 0.1);

        Assert.Equal(0.5 * 0.2 * (0.25 + 0.0625 + 1) + 0.1 * 1.75, value, 12);
    }

    [Fact]
    public void Solve_Hinge_IsRefusedWithTheReason()
    {
        var (dense, _) = LinearModelTests.RandomData(50, 3, seed: 34);

        var error = Assert.Throws<ArgumentException>(() => ElasticNetOptimum.Solve([dense], LinearLoss.Hinge, 1e-3, 0.01));

        Assert.Contains("not smooth", error.Message);
    }
}
