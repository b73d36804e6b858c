using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Models;

public sealed class LinearModelTests
{
    /// <summary>Random rows with about a third of the entries non-zero, as a dense and as a CSR partition of the same data.</summary>
    internal static (Partition Dense, Partition Sparse) RandomData(int rows, int features, ulong seed, double density = 0.35)
    {
        var random = new Xoshiro256(seed);
        var labels = new float[rows];
        var dense = new float[rows * features];
        var offsets = new int[rows + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (var r = 0; r < rows; r++)
        {
            labels[r] = random.NextDouble() < 0.5 ? 0f : 1f;
            for (var j = 0; j < features; j++)
            {
                if (random.NextDouble() >= density) continue;
                var v = (float)(2 * random.NextDouble() - 1);
                dense[r * features + j] = v;
                indices.Add(j);
                values.Add(v);
            }
            offsets[r + 1] = indices.Count;
        }
        return (Partition.CreateDense(features, labels, dense),
            Partition.CreateSparse(features, labels, offsets, indices.ToArray(), values.ToArray()));
    }

    private static float[] RandomParameters(int count, ulong seed, double scale = 1)
    {
        var random = new Xoshiro256(seed);
        var w = new float[count];
        for (var i = 0; i < count; i++) w[i] = (float)(scale * random.NextGaussian());
        return w;
    }

    private static IDifferentiableModel Model(string kind, int features) => kind switch
    {
        "logistic" => new LogisticRegression(features),
        "hinge" => new LinearSvm(features, SvmLosses.Hinge),
        _ => new LinearSvm(features, SvmLosses.SquaredHinge),
    };

    /// <summary>Textbook double-precision loss and slope on the margin z for labels y ∈ {0, 1}.</summary>
    private static (double Loss, double Slope) Oracle(string kind, double z, double y)
    {
        var s = 2 * y - 1;
        return kind switch
        {
            "logistic" => (Math.Log(1 + Math.Exp(z)) - y * z, 1 / (1 + Math.Exp(-z)) - y),
            "hinge" => (Math.Max(0, 1 - s * z), s * z < 1 ? -s : 0),
            _ => (Math.Pow(Math.Max(0, 1 - s * z), 2), -2 * s * Math.Max(0, 1 - s * z)),
        };
    }

    [Theory]
    [InlineData("logistic", 13, false)]
    [InlineData("logistic", 37, true)]
    [InlineData("hinge", 13, false)]
    [InlineData("hinge", 37, true)]
    [InlineData("squared-hinge", 13, false)]
    [InlineData("squared-hinge", 37, true)]
    [InlineData("logistic", 100, false)]
    [InlineData("hinge", 100, false)]
    [InlineData("squared-hinge", 100, true)]
    public void LossAndGradient_RandomData_MatchesNaiveOracle(string kind, int features, bool sparse)
    {
        var (dense, csr) = RandomData(301, features, seed: 3);
        var data = sparse ? csr : dense;
        var model = Model(kind, features);
        var w = RandomParameters(model.ParameterCount, seed: 4);
        var gradient = new float[model.ParameterCount];

        var loss = model.LossAndGradient(w, data, RowSelection.All(data), gradient);

        var expected = new double[model.ParameterCount];
        double expectedLoss = 0;
        for (var r = 0; r < dense.Rows; r++)
        {
            double z = w[features];
            for (var j = 0; j < features; j++) z += (double)w[j] * dense.Dense![r * features + j];
            var (l, g) = Oracle(kind, z, dense.Labels[r]);
            expectedLoss += l;
            for (var j = 0; j < features; j++) expected[j] += g * dense.Dense![r * features + j];
            expected[features] += g;
        }
        Assert.Equal(expectedLoss / dense.Rows, loss, 5);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i] / dense.Rows, gradient[i], 5);
        var evaluation = model.Evaluate(w, data);
        Assert.Equal(expectedLoss, evaluation.LossSum, 3);
    }

    [Theory]
    [InlineData("logistic")]
    [InlineData("squared-hinge")]
    [InlineData("hinge")]
    public void LossAndGradient_FiniteDifferences_AgreeWithGradient(string kind)
    {
        const int features = 11;
        var (all, _) = RandomData(64, features, seed: 8, density: 1);
        var model = Model(kind, features);
        var w = RandomParameters(model.ParameterCount, seed: 9, scale: 0.5);
        const double h = 1e-3;
        // Hinge is differentiable only away from its kink s·z = 1: keep the rows a step of h cannot carry across it
        // (|Δz| ≤ h·(‖x‖₁ + 1) ≤ 0.012 here).
        var keep = Enumerable.Range(0, all.Rows).Where(r => kind != "hinge"
            || Math.Abs(1 - (2 * all.Labels[r] - 1) * LinearKernels.Margin(w.AsSpan(0, features), w[features], all, r)) > 0.05).ToArray();
        Assert.True(keep.Length > 40, $"only {keep.Length} rows are away from the kink");
        var data = Partition.CreateDense(features, keep.Select(r => all.Labels[r]).ToArray(), keep.SelectMany(r => all.DenseRow(r).ToArray()).ToArray());
        var wd = w.Select(v => (double)v).ToArray();
        double Loss(double[] p)
        {
            double sum = 0;
            for (var r = 0; r < data.Rows; r++)
            {
                var z = p[features];
                for (var j = 0; j < features; j++) z += p[j] * data.Dense![r * features + j];
                sum += Oracle(kind, z, data.Labels[r]).Loss;
            }
            return sum / data.Rows;
        }
        var gradient = new float[model.ParameterCount];
        model.LossAndGradient(w, data, RowSelection.All(data), gradient);

        for (var i = 0; i < wd.Length; i++)
        {
            var plus = (double[])wd.Clone();
            var minus = (double[])wd.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.InRange(gradient[i] - numeric, -1e-4, 1e-4);
        }
    }

    [Fact]
    public void LossAndGradient_SparseAndDenseOfSameData_Agree()
    {
        var property = Prop.ForAll(Arb.From(Gen.Choose(1, 70)), Arb.From(Gen.Choose(1, 40)), Arb.From(Gen.Choose(0, 1000)), (rows, features, seed) =>
        {
            var (dense, sparse) = RandomData(rows, features, (ulong)seed);
            foreach (var kind in new[] { "logistic", "hinge", "squared-hinge" })
            {
                var model = Model(kind, features);
                var w = RandomParameters(model.ParameterCount, (ulong)seed + 1);
                var order = MiniBatches.Permutation(rows, (ulong)seed, 0, 0);
                var batch = new RowSelection(0, (rows + 1) / 2, order);
                var gd = new float[model.ParameterCount];
                var gs = new float[model.ParameterCount];
                var ld = model.LossAndGradient(w, dense, batch, gd);
                var ls = model.LossAndGradient(w, sparse, batch, gs);
                if (Math.Abs(ld - ls) > 1e-5 * Math.Max(1, Math.Abs(ld))) return false;
                for (var i = 0; i < gd.Length; i++)
                    if (Math.Abs(gd[i] - gs[i]) > 1e-5) return false;
                if (model.Evaluate(w, dense).CorrectSum != model.Evaluate(w, sparse).CorrectSum) return false;
            }
            return true;
        });
        property.QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(33)]
    public void SparseDot_AnyLength_MatchesScalarLoop(int length)
    {
        var random = new Xoshiro256((ulong)length);
        var w = RandomParameters(100, 5);
        var idx = Enumerable.Range(0, length).Select(_ => random.NextInt(100)).ToArray();
        var val = Enumerable.Range(0, length).Select(_ => (float)random.NextGaussian()).ToArray();
        double expected = 0;
        for (var k = 0; k < length; k++) expected += (double)w[idx[k]] * val[k];
        var g = new float[100];
        var expectedG = new double[100];
        for (var k = 0; k < length; k++) expectedG[idx[k]] += 0.5 * val[k];

        var dot = LinearKernels.SparseDot(w, idx, val);
        LinearKernels.SparseAxpy(g, idx, val, 0.5f);

        Assert.Equal(expected, dot, 4);
        for (var j = 0; j < 100; j++) Assert.Equal(expectedG[j], g[j], 5);
    }

    [Fact]
    public void LinearSvm_Labels_AreReadAsMinusOneAndPlusOne()
    {
        // One feature, w = 2, b = 0: x = 1 gives z = 2 (a label-1 row is beyond the margin, a label-0 row pays 1 + 2).
        var data = Partition.CreateDense(1, [1f, 0f], [1f, 1f]);
        var model = new LinearSvm(1);

        var evaluation = model.Evaluate([2f, 0f], data);

        Assert.Equal(3.0, evaluation.LossSum, 6);
        Assert.Equal(1.0, evaluation.CorrectSum);
    }

    [Fact]
    public void LinearSvm_UnknownLoss_NamesTheField()
    {
        var error = Assert.Throws<JobSpecException>(() => new LinearSvm(3, "hinj"));
        Assert.Equal("model.loss", error.Field);
    }

    [Fact]
    public void Models_Create_ChoosesTheModelOfTheSpec()
    {
        Assert.IsType<LinearSvm>(StepML.Core.Models.Models.Create(new ModelSpec { Type = "svm", Loss = "squared-hinge" }, 4));
        var kmeans = Assert.IsType<KMeans>(StepML.Core.Models.Models.Create(new ModelSpec { Type = "kmeans", Clusters = 3 }, 4));
        Assert.Equal(12, kmeans.ParameterCount);
        Assert.Equal("inertia", ((IModel)kmeans).MetricName);
    }

    [Theory]
    [InlineData(LinearLoss.Logistic)]
    [InlineData(LinearLoss.SquaredHinge)]
    [InlineData(LinearLoss.Hinge)]
    public void LinearOptimum_Solve_NoRandomDirectionImproves(LinearLoss loss)
    {
        var (dense, sparse) = RandomData(400, 9, seed: 12, density: 0.6);
        var parts = new[] { loss == LinearLoss.Hinge ? dense : sparse };

        var result = LinearOptimum.Solve(parts, loss, 1e-2);

        // F is convex: a point no small step in 200 random directions improves is (numerically) the minimum.
        var random = new Xoshiro256(99);
        var p = result.Parameters.Select(v => (float)v).ToArray();
        var f = LinearOptimum.Objective(parts, loss, 1e-2, p);
        Assert.Equal(result.Objective, f, 5);
        for (var t = 0; t < 200; t++)
        {
            var step = 1e-3 * (1 + random.NextInt(10));
            var q = p.Select(v => (float)(v + step * random.NextGaussian())).ToArray();
            Assert.True(LinearOptimum.Objective(parts, loss, 1e-2, q) >= f - 1e-7, $"direction {t} improves the reference");
        }
    }

    [Fact]
    public void LinearOptimum_Logistic_MatchesNewton()
    {
        var (dense, _) = RandomData(500, 6, seed: 21, density: 1);

        var lbfgs = LinearOptimum.Solve([dense], LinearLoss.Logistic, 1e-3);
        var newton = LogisticOptimum.Solve([dense], 1e-3);

        Assert.Equal(newton.Objective, lbfgs.Objective, 9);
    }
}
