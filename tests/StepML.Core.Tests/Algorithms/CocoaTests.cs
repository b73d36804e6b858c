using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Data;
using StepML.Core.Tests.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Algorithms;

public class CocoaTests
{
    private const int Features = 7;

    private static JobSpec Job(string model = ModelTypes.Logistic, string loss = SvmLosses.Hinge, double l2 = 1e-3, int epochs = 1, int features = Features) => new()
    {
        Dataset = new DatasetSpec { Features = features, Partitions = 3 },
        Model = new ModelSpec { Type = model, L2 = l2, Loss = loss },
        Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Cocoa, LocalEpochs = epochs },
    };

    internal static Partition Rcv1Like(int rows, int features, double density, ulong seed)
    {
        using var writer = new StringWriter();
        SyntheticData.WriteRcv1Like(writer, rows, features, density, seed);
        var parsed = DataTestHelpers.ReadAllLibSvm(writer.ToString());
        var labels = new float[parsed.Count];
        var offsets = new int[parsed.Count + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (var r = 0; r < parsed.Count; r++)
        {
            labels[r] = parsed[r].Label;
            indices.AddRange(parsed[r].Indices);
            values.AddRange(parsed[r].Values);
            offsets[r + 1] = indices.Count;
        }
        return Partition.CreateSparse(features, labels, offsets, [.. indices], [.. values]);
    }

    /// <summary>Consecutive row ranges of <paramref name="data"/> as partitions.</summary>
    private static Partition[] Split(Partition data, params int[] sizes)
    {
        var parts = new Partition[sizes.Length];
        var start = 0;
        for (var p = 0; p < sizes.Length; p++)
        {
            var (first, count) = (start, sizes[p]);
            start += count;
            var labels = data.Labels.AsSpan(first, count).ToArray();
            if (!data.IsSparse)
            {
                parts[p] = Partition.CreateDense(data.Features, labels, data.Dense.AsSpan(first * data.Features, count * data.Features).ToArray());
                continue;
            }
            var begin = data.RowOffsets![first];
            var offsets = new int[count + 1];
            for (var r = 0; r <= count; r++) offsets[r] = data.RowOffsets[first + r] - begin;
            var end = data.RowOffsets[first + count];
            parts[p] = Partition.CreateSparse(data.Features, labels, offsets, data.Indices.AsSpan(begin, end - begin).ToArray(), data.Values.AsSpan(begin, end - begin).ToArray());
        }
        return parts;
    }

    /// <summary>Sparse rows (35% non-zero) labelled by a fixed linear model plus noise.</summary>
    private static Partition SparseFromModel(int rows, ulong seed)
    {
        var (_, sparse) = LinearModelTests.RandomData(rows, Features, seed);
        var random = new Xoshiro256(seed + 1);
        var truth = Enumerable.Range(0, Features).Select(_ => 2 * random.NextGaussian()).ToArray();
        var labels = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            var z = 0.3;
            for (var k = sparse.RowOffsets![r]; k < sparse.RowOffsets[r + 1]; k++) z += truth[sparse.Indices![k]] * sparse.Values![k];
            labels[r] = z + 0.3 * random.NextGaussian() > 0 ? 1f : 0f;
        }
        return Partition.CreateSparse(Features, labels, sparse.RowOffsets!, sparse.Indices!, sparse.Values!);
    }

    public static TheoryData<string, bool, double> Problems => new()
    {
        { "logistic", false, 1e-3 },
        { "logistic", true, 1e-2 },
        { "squared-hinge", false, 1e-2 },
        { "squared-hinge", true, 1e-3 },
        { "hinge", false, 1e-2 },
        { "hinge", true, 1e-2 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void Train_SeveralProblems_CertifiedGapBoundsTheTrueGapAndShrinks(string loss, bool sparse, double l2)
    {
        // Arrange: one dataset in three unequal partitions (σ'_k = N/n_k differ), the reference on all of them.
        var parts = Split(sparse ? SparseFromModel(600, 57) : ModelTestData.Dense(600, Features, 51), 300, 200, 100);
        var logistic = loss == "logistic";
        IModel model = logistic ? new LogisticRegression(Features) : new LinearSvm(Features, loss);
        var kind = logistic ? LinearLoss.Logistic : loss == SvmLosses.Hinge ? LinearLoss.Hinge : LinearLoss.SquaredHinge;
        var reference = LinearOptimum.Solve(parts, kind, l2);
        var job = Job(logistic ? ModelTypes.Logistic : ModelTypes.Svm, loss, l2, epochs: 2);

        // Act
        var history = InProcessRounds.Train(new Cocoa(job), model, parts, l2, 40);

        // Assert: every round's certificate is at least the true gap of the model it certifies, and both close in.
        foreach (var round in history)
        {
            var truth = LinearOptimum.Objective(parts, kind, l2, round.Model) - reference.Objective;
            Assert.True(round.Certificate!.Gap >= truth, $"certified {round.Certificate.Gap} < true {truth}");
        }
        // These 600-row problems have λN between 0.6 and 6, hard for dual methods: measured 2e-4 to 1e-3 after 40 rounds.
        // The hinge reference is a feasible point within 1e-7 of its own problem: the run may end a hair below it.
        var last = history[^1];
        Assert.InRange((LinearOptimum.Objective(parts, kind, l2, last.Model) - reference.Objective) / reference.Objective, -1e-5, 2e-3);
        var first = history.First(r => double.IsFinite(r.Certificate!.RelativeGap)).Certificate!.RelativeGap;
        Assert.True(last.Certificate!.RelativeGap < first / 10, $"certified {last.Certificate.RelativeGap}, first finite {first}");
    }

    [Fact]
    public void Train_Rcv1ShapedFourWorkers_ReachesOneTenthPercentInAThirdOfTheBestBaselinesRounds()
    {
        // Arrange: a CI-sized RCV1 shape (47,236 features, 0.16% density), 4 × 5,000 rows, λ = 1e-3; the baselines with
        // the settings of bench/rounds on RCV1 (GA-SGD η 4, μ 0.9, full batch; MA-SGD η 2, batch 100, 2 epochs; ADMM η 2,
        // batch 100, 3 epochs, ρ 0.02).
        const int features = 47_236;
        const double l2 = 1e-3;
        const int rounds = 15;
        var parts = Enumerable.Range(0, 4).Select(p => Rcv1Like(5000, features, 0.0016, (ulong)(100 + p))).ToArray();
        var reference = LinearOptimum.Solve(parts, LinearLoss.Logistic, l2).Objective;
        var model = new LogisticRegression(features);
        IAlgorithm[] baselines =
        [
            new GaSgd(new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, LearningRate = 4, Momentum = 0.9, BatchSize = 0 }, l2),
            new MaSgd(new AlgorithmSpec { Type = AlgorithmTypes.MaSgd, LearningRate = 2, BatchSize = 100, LocalEpochs = 2 }, l2),
            new Admm(new AlgorithmSpec { Type = AlgorithmTypes.Admm, LearningRate = 2, BatchSize = 100, LocalEpochs = 3, Rho = 0.02 }, l2),
        ];
        int FirstWithin(List<InProcessRounds.Round> history) =>
            history.FindIndex(r => (r.Primal - reference) / reference <= 1e-3) is var i and >= 0 ? i : int.MaxValue;

        // Act
        var cocoa = FirstWithin(InProcessRounds.Train(new Cocoa(Job(l2: l2, features: features)), model, parts, l2, rounds));
        var best = baselines.Min(b => FirstWithin(InProcessRounds.Train(b, model, parts, l2, rounds)));

        // Assert (measured: CoCoA+ at round 3, the best baseline, MA-SGD, at round 9).
        Assert.InRange(cocoa, 1, 3);
        Assert.True(3 * cocoa <= best, $"cocoa {cocoa} rounds, best baseline {best}");
    }

    [Fact]
    public void Work_SparseRows_ChangesOnlyFeaturesThePartitionHas()
    {
        // Arrange: a partition whose rows never use features 3 and 5.
        var (_, sparse) = LinearModelTests.RandomData(200, Features, 61);
        var offsets = new int[sparse.Rows + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (var r = 0; r < sparse.Rows; r++)
        {
            for (var k = sparse.RowOffsets![r]; k < sparse.RowOffsets[r + 1]; k++)
            {
                if (sparse.Indices![k] is 3 or 5) continue;
                indices.Add(sparse.Indices[k]);
                values.Add(sparse.Values![k]);
            }
            offsets[r + 1] = indices.Count;
        }
        var data = Partition.CreateSparse(Features, sparse.Labels, offsets, [.. indices], [.. values]);
        var cocoa = new Cocoa(Job());
        var statistic = new float[(Features + 1) * cocoa.StatisticStride];
        var state = new float[cocoa.WorkerStateLength(Features + 1, data.Rows)];

        // Act
        cocoa.Work(new WorkerInput(new LogisticRegression(Features), data, 0, 0, 1), new float[Features + 1], [], state, statistic);

        // Assert
        Assert.Equal(200, state.Length);
        Assert.Equal(0f, statistic[3 * 3]);
        Assert.Equal(0f, statistic[3 * 5]);
        Assert.NotEqual(0f, statistic[0]);
        Assert.Contains(state, u => u != 0);
    }

    [Fact]
    public void Work_RoundAfterTheFirstWithoutItsState_Throws()
    {
        var cocoa = new Cocoa(Job());
        var data = ModelTestData.Dense(50, Features, 71);

        var error = Assert.Throws<InvalidOperationException>(() =>
            cocoa.Work(new WorkerInput(new LogisticRegression(Features), data, 2, 3, 1), new float[Features + 1], [], new float[50], new float[(Features + 1) * 3]));

        Assert.Contains("partition 2", error.Message);
    }

    [Fact]
    public void Train_HiggsShapedUncentredFeatures_ReachesOneThousandthPercentInFiveRounds()
    {
        // Arrange: momenta and masses with means near 1, so w and the free bias are strongly coupled (b* ≈ 3.2).
        const int features = 12;
        using var writer = new StringWriter();
        SyntheticData.WriteHiggsLike(writer, 24_000, features, seed: 11);
        var rows = DataTestHelpers.ReadAllLibSvm(writer.ToString());
        var x = new float[rows.Count * features];
        for (var r = 0; r < rows.Count; r++)
            for (var k = 0; k < rows[r].Indices.Length; k++) x[r * features + rows[r].Indices[k]] = rows[r].Values[k];
        var parts = Split(Partition.CreateDense(features, rows.Select(r => r.Label).ToArray(), x), 6000, 6000, 6000, 6000);
        var reference = LinearOptimum.Solve(parts, LinearLoss.Logistic, 1e-3).Objective;

        // Act
        var history = InProcessRounds.Train(new Cocoa(Job(l2: 1e-3, epochs: 2, features: features)), new LogisticRegression(features), parts, 1e-3, 6);

        // Assert (measured: 1.5e-5 at round 4, 5.6e-6 at round 5).
        Assert.InRange((history[5].Primal - reference) / reference, -1e-6, 1e-5);
    }

    [Theory]
    [InlineData(ModelTypes.Softmax, SvmLosses.Hinge, 1e-3, 0, 0, "model.type")]
    [InlineData(ModelTypes.Logistic, SvmLosses.Hinge, 0, 0, 0, "model.l2")]
    [InlineData(ModelTypes.Logistic, SvmLosses.Hinge, 1e-3, 1e-3, 0, "model.l1")]
    [InlineData(ModelTypes.Logistic, SvmLosses.Hinge, 1e-3, 0, 0.1, "communication.dropRate")]
    public void Create_UnsupportedJob_RejectsNamingTheField(string model, string loss, double l2, double l1, double drop, string field)
    {
        var job = Job(model, loss, l2) with
        {
            Model = new ModelSpec { Type = model, Loss = loss, L2 = l2, L1 = l1 },
            Communication = new CommunicationSpec { DropRate = drop },
        };

        var error = Assert.Throws<JobSpecException>(() => Core.Algorithms.Algorithms.Create(job));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Create_ToleratedFailures_RejectsNamingTheField()
    {
        var job = Job() with { Workers = new WorkersSpec { ToleratedFailurePercentage = 25 } };

        var error = Assert.Throws<JobSpecException>(() => Core.Algorithms.Algorithms.Create(job));

        Assert.Equal("workers.toleratedFailurePercentage", error.Field);
    }
}
