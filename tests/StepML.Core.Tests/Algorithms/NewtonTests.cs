using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Algorithms;

public class NewtonTests
{
    private const int Features = 7;

    private static JobSpec Job(string model = ModelTypes.Logistic, string loss = SvmLosses.Hinge, double l2 = 1e-3, int shards = 1, int features = Features) => new()
    {
        Dataset = new DatasetSpec { Features = features, Partitions = 3 },
        Model = new ModelSpec { Type = model, L2 = l2, Loss = loss },
        Algorithm = new AlgorithmSpec { Type = AlgorithmTypes.Newton },
        Communication = new CommunicationSpec { Shards = shards, Pattern = shards > 1 ? Patterns.ScatterReduce : Patterns.AllReduce },
    };

    private static (float[] Model, List<double> RelativeGaps) Train(JobSpec job, IModel model, Partition[] parts, int rounds)
    {
        var history = InProcessRounds.Train(Core.Algorithms.Algorithms.Create(job), model, parts, job.Model.L2, rounds, out var final);
        return (final, history.Select(r => r.Certificate!.RelativeGap).ToList());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_LogisticThreePartitions_ReachesTheOptimumInTenRounds(bool sparse)
    {
        // Arrange
        Partition[] parts = sparse
            ? [LinearModelTests.RandomData(300, Features, 21).Sparse, LinearModelTests.RandomData(200, Features, 22).Sparse, LinearModelTests.RandomData(100, Features, 23).Sparse]
            : [ModelTestData.Dense(300, Features, 21), ModelTestData.Dense(200, Features, 22), ModelTestData.Dense(100, Features, 23)];
        var reference = LinearOptimum.Solve(parts, LinearLoss.Logistic, 1e-3);

        // Act
        var (w, gaps) = Train(Job(), new LogisticRegression(Features), parts, 10);

        // Assert
        var objective = LinearOptimum.Objective(parts, LinearLoss.Logistic, 1e-3, w);
        Assert.InRange((objective - reference.Objective) / reference.Objective, -1e-6, 1e-6);
        Assert.InRange(gaps[^1], 0, 1e-5);
    }

    [Fact]
    public void Update_SquaredHingeSvm_ReachesTheOptimumInTenRounds()
    {
        // Arrange
        Partition[] parts = [ModelTestData.Dense(300, Features, 31), ModelTestData.Dense(250, Features, 32)];
        var reference = LinearOptimum.Solve(parts, LinearLoss.SquaredHinge, 1e-2);

        // Act
        var (w, gaps) = Train(Job(ModelTypes.Svm, SvmLosses.SquaredHinge, l2: 1e-2), new LinearSvm(Features, SvmLosses.SquaredHinge), parts, 10);

        // Assert
        var objective = LinearOptimum.Objective(parts, LinearLoss.SquaredHinge, 1e-2, w);
        Assert.InRange((objective - reference.Objective) / reference.Objective, -1e-6, 1e-5);
        Assert.InRange(gaps[^1], 0, 1e-4);
    }

    [Fact]
    public void Work_Hessian_MatchesFiniteDifferencesOfTheGradient()
    {
        // Arrange
        var data = ModelTestData.Dense(200, Features, 41);
        var model = new LogisticRegression(Features);
        var newton = new Newton(Job());
        var n = model.ParameterCount;
        var w = ModelTestData.RandomParameters(n, 42, 0.3);
        var statistic = new float[n * newton.StatisticStride];

        // Act
        newton.Work(new WorkerInput(model, data, 0, 0, 1), w, [], [], statistic);

        // Assert: column k of H ≈ (∇(w + h·e_k) − ∇(w − h·e_k)) / 2h, and p + q is the gradient.
        var gradient = new float[n];
        model.LossAndGradient(w, data, RowSelection.All(data), gradient);
        const float h = 1e-2f;
        for (var k = 0; k < n; k++)
        {
            var stride = newton.StatisticStride;
            Assert.InRange(statistic[k * stride] + statistic[k * stride + 1] - gradient[k], -1e-5, 1e-5);
            var plus = (float[])w.Clone();
            var minus = (float[])w.Clone();
            plus[k] += h;
            minus[k] -= h;
            var gp = new float[n];
            var gm = new float[n];
            model.LossAndGradient(plus, data, RowSelection.All(data), gp);
            model.LossAndGradient(minus, data, RowSelection.All(data), gm);
            for (var j = 0; j < n; j++)
                Assert.InRange(statistic[j * stride + 2 + k] - (gp[j] - gm[j]) / (2 * h), -2e-3, 2e-3);
        }
    }

    [Fact]
    public void Create_TwoShards_RejectsNamingTheField()
    {
        var error = Assert.Throws<JobSpecException>(() => Core.Algorithms.Algorithms.Create(Job(shards: 2)));

        Assert.Equal("communication.shards", error.Field);
    }

    [Fact]
    public void Create_Hinge_RejectsNamingTheLoss()
    {
        var error = Assert.Throws<JobSpecException>(() => Core.Algorithms.Algorithms.Create(Job(ModelTypes.Svm, SvmLosses.Hinge)));

        Assert.Equal("model.loss", error.Field);
    }

    [Fact]
    public void Create_TooManyFeatures_Rejects()
    {
        var error = Assert.Throws<JobSpecException>(() => Core.Algorithms.Algorithms.Create(Job(features: Newton.MaxFeatures + 1)));

        Assert.Equal("algorithm.type", error.Field);
    }
}
