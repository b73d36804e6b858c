using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural;

public class FeedForwardModelTests
{
    private static Partition RandomImages(int rows, int features, int classes, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var values = new float[rows * features];
        for (var i = 0; i < values.Length; i++) values[i] = rng.NextFloat();
        var labels = new float[rows];
        for (var r = 0; r < rows; r++) labels[r] = rng.NextInt(classes);
        return Partition.CreateDense(features, labels, values);
    }

    public static TheoryData<string> Types => new() { ModelTypes.Softmax, ModelTypes.Mlp, ModelTypes.Cnn };

    private static FeedForwardModel Build(string type) => type switch
    {
        ModelTypes.Softmax => NeuralModels.Softmax(12, 3),
        ModelTypes.Mlp => NeuralModels.Mlp(12, [5, 4], 3),
        _ => NeuralModels.Cnn(6, 4, 2, [3, 2], 3, 3),
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void LossAndGradient_WholeModel_MatchesFiniteDifferences(string type)
    {
        var model = Build(type);
        var data = RandomImages(9, model.Features, 3, 7);
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 11);
        var rng = new Xoshiro256(3);
        for (var i = 0; i < parameters.Length; i++) parameters[i] += (float)(0.05 * (rng.NextDouble() - 0.5));
        var rows = new RowSelection(1, 6, [8, 0, 3, 5, 2, 7, 1, 4, 6]);
        var gradient = new float[model.ParameterCount];
        var loss = model.LossAndGradient(parameters, data, rows, gradient);
        Assert.True(loss > 0);

        const double h = 1e-3; // small enough that no ReLU changes side for this seed
        var probe = new float[model.ParameterCount];
        for (var i = 0; i < parameters.Length; i += Math.Max(1, parameters.Length / 80))
        {
            var keep = parameters[i];
            parameters[i] = (float)(keep + h);
            var up = model.LossAndGradient(parameters, data, rows, probe);
            parameters[i] = (float)(keep - h);
            var down = model.LossAndGradient(parameters, data, rows, probe);
            parameters[i] = keep;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 5e-4 + 2e-2 * Math.Abs(numeric), $"{type} parameter {i}: finite difference {numeric}, gradient {gradient[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Evaluate_AgreesWithLossAndPredict(string type)
    {
        var model = Build(type);
        var data = RandomImages(300, model.Features, 3, 8); // more rows than one 256-row chunk
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 1);
        var loss = model.LossAndGradient(parameters, data, RowSelection.All(data), new float[model.ParameterCount]);
        var evaluation = model.Evaluate(parameters, data);
        Assert.Equal(loss, evaluation.MeanLoss, 1e-5);
        var predictions = model.Predict(parameters, data);
        var correct = predictions.Where((p, r) => p == data.Labels[r]).Count();
        Assert.Equal(correct, evaluation.CorrectSum);
    }

    [Fact]
    public void Initialize_SameSeed_SameParameters_OtherSeed_Differs()
    {
        var model = NeuralModels.Mlp(20, [8], 4);
        var a = new float[model.ParameterCount];
        var b = new float[model.ParameterCount];
        var c = new float[model.ParameterCount];
        model.Initialize(a, 5);
        model.Initialize(b, 5);
        model.Initialize(c, 6);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // He init: the first layer's weights have variance 2/fanIn.
        var first = a.AsSpan(0, 20 * 8).ToArray();
        var variance = first.Select(v => (double)v * v).Average();
        Assert.InRange(variance, 0.5 * 2.0 / 20, 1.5 * 2.0 / 20);
    }

    [Fact]
    public void RegularizationMask_BiasesAreZero()
    {
        var model = NeuralModels.Mlp(3, [2], 2);
        var mask = new float[model.ParameterCount];
        model.RegularizationMask(mask);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0], mask);
    }

    [Fact]
    public void LossAndGradient_LabelOutOfRange_ThrowsNamingClasses()
    {
        var model = NeuralModels.Softmax(2, 3);
        var data = Partition.CreateDense(2, [3f], [0.5f, 0.5f]);
        var e = Assert.Throws<ArgumentException>(() => model.LossAndGradient(new float[model.ParameterCount], data, RowSelection.All(data), new float[model.ParameterCount]));
        Assert.Contains("model.classes", e.Message);
    }

    [Fact]
    public void Create_CnnShapeDisagreesWithFeatures_ThrowsNamingInputShape()
    {
        var spec = new ModelSpec { Type = ModelTypes.Cnn, Classes = 10, InputShape = [28, 28, 1] };
        var e = Assert.Throws<JobSpecException>(() => StepML.Core.Models.Models.Create(spec, 700));
        Assert.Equal("model.inputShape", e.Field);
    }
}
