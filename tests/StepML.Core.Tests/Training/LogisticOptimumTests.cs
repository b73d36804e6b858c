using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Training;

public class LogisticOptimumTests
{
    private const int Features = 6;
    private const double L2 = 1e-3;

    private static readonly Partition[] s_partitions =
    [
        ModelTestData.Dense(400, Features, seed: 101),
        ModelTestData.Dense(250, Features, seed: 102),
    ];

    private static readonly Lazy<LogisticOptimum.Result> s_solution = new(() => LogisticOptimum.Solve(s_partitions, L2));

    // ∇F(w) in double over all partitions: mean (σ(z) − y)·x̃ + λ·m∘w.
    private static double[] Gradient(ReadOnlySpan<float> w)
    {
        var n = w.Length;
        var g = new double[n];
        long rows = 0;
        foreach (var p in s_partitions)
            for (var r = 0; r < p.Rows; r++, rows++)
            {
                double z = w[Features];
                var x = p.DenseRow(r);
                for (var j = 0; j < Features; j++) z += (double)w[j] * x[j];
                var residual = 1 / (1 + Math.Exp(-z)) - p.Labels[r];
                for (var j = 0; j < Features; j++) g[j] += residual * x[j];
                g[Features] += residual;
            }
        for (var j = 0; j < n; j++) g[j] = g[j] / rows + (j < Features ? L2 * w[j] : 0);
        return g;
    }

    [Fact]
    public void Solve_GeneratedData_GradientAtSolutionNearZero()
    {
        // Act
        var solution = s_solution.Value;

        // Assert: the solver stops at ‖∇F‖ < 1e-10 in double; rounding w to float perturbs it by ~1e-7·‖H‖.
        var g = Gradient(solution.Parameters);
        var norm = Math.Sqrt(g.Sum(v => v * v));
        Assert.InRange(norm, 0, 1e-5);
        Assert.InRange(solution.Iterations, 1, 49);
        Assert.True(Math.Abs(solution.Parameters[0]) > 0.05, "the solution should not be trivially zero");
    }

    [Fact]
    public void Solve_GeneratedData_ObjectiveNotAboveAnyPerturbedPoint()
    {
        // Arrange
        var solution = s_solution.Value;
        var best = LogisticOptimum.Objective(s_partitions, solution.Parameters, L2);
        var rng = new Xoshiro256(103);

        // Act / Assert: random directions at three scales, plus each coordinate on its own.
        foreach (var scale in new[] { 1e-3, 1e-2, 1e-1 })
        {
            for (var trial = 0; trial < 10; trial++)
            {
                var w = (float[])solution.Parameters.Clone();
                for (var i = 0; i < w.Length; i++) w[i] += (float)(scale * rng.NextGaussian());
                Assert.True(LogisticOptimum.Objective(s_partitions, w, L2) >= best, $"a perturbation of scale {scale} lowered the objective");
            }
            for (var i = 0; i < solution.Parameters.Length; i++)
                foreach (var sign in new[] { -1, 1 })
                {
                    var w = (float[])solution.Parameters.Clone();
                    w[i] += (float)(sign * scale);
                    Assert.True(LogisticOptimum.Objective(s_partitions, w, L2) >= best, $"moving parameter {i} by {sign * scale} lowered the objective");
                }
        }
    }

    [Fact]
    public void Objective_AnyParameters_EqualsModelLossPlusRegularization()
    {
        var model = new LogisticRegression(Features);
        var w = ModelTestData.RandomParameters(Features + 1, seed: 104, scale: 0.7);
        var mask = new float[Features + 1];
        model.RegularizationMask(mask);

        var objective = LogisticOptimum.Objective(s_partitions, w, L2);

        var evaluation = model.Evaluate(w, s_partitions[0]) + model.Evaluate(w, s_partitions[1]);
        var expected = evaluation.MeanLoss + StepML.Core.Models.Models.Regularization(w, mask, L2);
        Assert.InRange(objective, expected * (1 - 1e-6), expected * (1 + 1e-6));
    }

    [Fact]
    public void Solve_ReportedObjective_MatchesObjectiveOfReturnedParameters()
    {
        var solution = s_solution.Value;

        var recomputed = LogisticOptimum.Objective(s_partitions, solution.Parameters, L2);

        Assert.InRange(solution.Objective, recomputed - 1e-9, recomputed + 1e-9);
    }
}
