using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Training;

public class DualityGapTests
{
    public static TheoryData<string, bool, double, ulong> Problems() => new()
    {
        { "logistic", false, 1e-2, 1 },
        { "logistic", false, 1e-4, 2 },
        { "logistic", true, 1e-3, 3 },
        { "squared-hinge", false, 1e-3, 4 },
        { "squared-hinge", true, 1e-2, 5 },
        { "hinge", false, 1e-2, 6 },
        { "hinge", true, 1e-3, 7 },
    };

    private static (IModel Model, LinearLoss Loss) ModelFor(string loss, int features) => loss switch
    {
        "logistic" => (new LogisticRegression(features), LinearLoss.Logistic),
        "squared-hinge" => (new LinearSvm(features, SvmLosses.SquaredHinge), LinearLoss.SquaredHinge),
        _ => (new LinearSvm(features, SvmLosses.Hinge), LinearLoss.Hinge),
    };

    private static Partition[] Data(bool sparse, ulong seed)
    {
        const int features = 9;
        if (!sparse) return [ModelTestData.Dense(300, features, seed), ModelTestData.Dense(200, features, seed + 100)];
        return [LinearModelTests.RandomData(300, features, seed, density: 0.3).Sparse, LinearModelTests.RandomData(150, features, seed + 100, density: 0.3).Sparse];
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void Evaluate_PointsAroundTheOptimum_NeverBelowTheTrueGap(string loss, bool sparse, double l2, ulong seed)
    {
        // Arrange
        var parts = Data(sparse, seed);
        var (model, linearLoss) = ModelFor(loss, parts[0].Features);
        var reference = LinearOptimum.Solve(parts, linearLoss, l2);
        var optimum = reference.Parameters.Select(v => (float)v).ToArray();
        var noise = ModelTestData.RandomParameters(optimum.Length, seed + 7, 1);

        foreach (var (scale, perturbation) in new[] { (0.0, 0.0), (0.5, 0.0), (0.9, 0.1), (0.99, 0.01), (1.0, 1e-3), (1.0, 0.0), (1.3, 0.2) })
        {
            var w = optimum.Select((v, i) => (float)(scale * v + perturbation * noise[i])).ToArray();

            // Act
            var certificate = DualityGap.Evaluate(model, w, parts, l2);

            // Assert: P(w) − P* from the reference never exceeds the certificate (the reference's F is itself ≥ P*,
            // so the true gap may be larger only by its own tolerance, below 1e-7 here).
            var truth = LinearOptimum.Objective(parts, linearLoss, l2, w) - reference.Objective;
            Assert.True(certificate.Gap >= truth, $"scale {scale}, perturbation {perturbation}: certified {certificate.Gap:G6} < true gap {truth:G6}");
            Assert.InRange(certificate.Primal, LinearOptimum.Objective(parts, linearLoss, l2, w) - 1e-5, LinearOptimum.Objective(parts, linearLoss, l2, w) + 1e-5);
        }
    }

    [Theory]
    [InlineData("logistic", false, 1e-3)]
    [InlineData("logistic", true, 1e-3)]
    [InlineData("squared-hinge", false, 1e-3)]
    public void Evaluate_AtTheOptimum_IsTight(string loss, bool sparse, double l2)
    {
        // Arrange: the smooth losses' reference is solved to a gradient of 1e-9, so its certificate must be near 0.
        var parts = Data(sparse, 11);
        var (model, linearLoss) = ModelFor(loss, parts[0].Features);
        var optimum = LinearOptimum.Solve(parts, linearLoss, l2).Parameters.Select(v => (float)v).ToArray();

        // Act
        var certificate = DualityGap.Evaluate(model, optimum, parts, l2);

        // Assert
        Assert.InRange(certificate.RelativeGap, 0, 1e-4);
    }

    [Fact]
    public void DualBound_NoRegularisation_IsMinusInfinity()
    {
        var products = new DualityGap.Products(1, 0, 1, 0.5, -0.5);

        Assert.Equal(double.NegativeInfinity, DualityGap.DualBound(-0.3, -0.3, products, 0));
    }

    [Fact]
    public void DualBound_UnbalancedSlopes_ScalesTheLargerGroup()
    {
        // Arrange: group means p = +0.4, q = −0.1 (bias entries); with no weights the bound is −(t·Cp + Cn), t = 0.1/0.4.
        var products = new DualityGap.Products(0, 0, 0, 0.4, -0.1);

        // Act
        var bound = DualityGap.DualBound(-0.2, -0.1, products, 1e-3);

        // Assert
        Assert.Equal(0.25 * 0.2 + 0.1, bound, 12);
    }
}
