using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural;

/// <summary>Finite-difference checks of every layer: with L = Σ r ⊙ layer(x; θ) for a fixed random r, Backward(r) must
/// give ∂L/∂θ and ∂L/∂x. Central differences in float32 with h = 1e-2 on O(1) values.</summary>
public class LayerGradientTests
{
    private const double H = 1e-2;

    internal static float[] Random(int length, Xoshiro256 rng, double scale = 1)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = (float)(scale * (rng.NextDouble() * 2 - 1));
        return values;
    }

    // Training mode: batch normalisation normalises with the batch's statistics, which the backward pass differentiates.
    private static double Objective(ILayer layer, float[] parameters, float[] input, float[] weights, int batch)
    {
        var output = new float[batch * layer.OutputSize];
        layer.ForwardTraining(parameters, input, output, batch, new float[layer.ScratchSize(batch)]);
        double sum = 0;
        for (var i = 0; i < output.Length; i++) sum += (double)weights[i] * output[i];
        return sum;
    }

    /// <summary>Checks ∂L/∂θ for the trained parameters (not the state slots of <see cref="ILayer.StateMask"/>) and ∂L/∂x.</summary>
    internal static void CheckLayer(ILayer layer, int batch, ulong seed, double h = H)
    {
        var rng = new Xoshiro256(seed);
        var parameters = new float[layer.ParameterCount];
        layer.Initialize(parameters, rng);
        for (var i = 0; i < parameters.Length; i++) parameters[i] += (float)(0.1 * (rng.NextDouble() - 0.5)); // non-zero biases
        var input = Random(batch * layer.InputSize, rng);
        var weights = Random(batch * layer.OutputSize, rng);
        var output = new float[batch * layer.OutputSize];
        layer.ForwardTraining(parameters, input, output, batch, new float[layer.ScratchSize(batch)]);
        var state = new float[layer.ParameterCount];
        layer.StateMask(state);
        var parameterGradient = new float[layer.ParameterCount];
        var inputGradient = new float[batch * layer.InputSize];
        layer.Backward(parameters, input, output, weights, inputGradient, parameterGradient, batch);

        // Backward adds into the parameter gradient: a second call doubles it.
        var twice = (float[])parameterGradient.Clone();
        layer.Backward(parameters, input, output, weights, new float[inputGradient.Length], twice, batch);
        for (var i = 0; i < twice.Length; i++) Assert.Equal(2 * parameterGradient[i], twice[i], 1e-4f * Math.Max(1, Math.Abs(twice[i])));

        foreach (var i in Sample(parameters.Length, rng).Where(i => state[i] == 0f))
        {
            var keep = parameters[i];
            parameters[i] = (float)(keep + h);
            var up = Objective(layer, parameters, input, weights, batch);
            parameters[i] = (float)(keep - h);
            var down = Objective(layer, parameters, input, weights, batch);
            parameters[i] = keep;
            AssertClose((up - down) / (2 * h), parameterGradient[i], $"{layer.GetType().Name} parameter {i}");
        }
        foreach (var i in Sample(input.Length, rng))
        {
            var keep = input[i];
            input[i] = (float)(keep + h);
            var up = Objective(layer, parameters, input, weights, batch);
            input[i] = (float)(keep - h);
            var down = Objective(layer, parameters, input, weights, batch);
            input[i] = keep;
            AssertClose((up - down) / (2 * h), inputGradient[i], $"{layer.GetType().Name} input {i}");
        }
    }

    private static IEnumerable<int> Sample(int length, Xoshiro256 rng)
    {
        if (length <= 60) return Enumerable.Range(0, length);
        return Enumerable.Range(0, 60).Select(_ => rng.NextInt(length)).Distinct();
    }

    private static void AssertClose(double numeric, double analytic, string what) =>
        Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + 1e-2 * Math.Abs(numeric), $"{what}: finite difference {numeric}, backward {analytic}");

    [Fact]
    public void Dense_Backward_MatchesFiniteDifferences() => CheckLayer(new DenseLayer(13, 7, WeightInit.He), batch: 5, seed: 1);

    [Theory]
    [InlineData(37)]
    [InlineData(5)]
    public void Relu_Backward_MatchesFiniteDifferences(int size) => CheckLayer(new ReluLayer(size), batch: 3, seed: 2);

    [Theory]
    [InlineData(6, 5, 2, 3, 3)]
    [InlineData(7, 7, 3, 4, 5)]
    [InlineData(4, 9, 1, 2, 1)]
    public void Conv2d_Backward_MatchesFiniteDifferences(int height, int width, int channels, int filters, int kernel) =>
        CheckLayer(new Conv2dLayer(height, width, channels, filters, kernel), batch: 3, seed: 3);

    [Theory]
    [InlineData(6, 7, 3)]
    [InlineData(5, 4, 16)]   // the Vector256 path
    [InlineData(4, 4, 11)]   // vector and scalar tail
    public void MaxPool_Backward_MatchesFiniteDifferences(int height, int width, int channels) =>
        CheckLayer(new MaxPoolLayer(height, width, channels), batch: 2, seed: 4, h: 1e-3); // small h: no window changes its maximum

    [Fact]
    public void MaxPool_Backward_TiedWindow_GradientGoesToFirstMaximumOnly()
    {
        var layer = new MaxPoolLayer(2, 2, 8);
        var input = new float[32];
        Array.Fill(input, 1f); // every position of every window ties
        var output = new float[8];
        layer.Forward([], input, output, 1);
        var gradient = new float[32];
        layer.Backward([], input, output, Enumerable.Repeat(2f, 8).ToArray(), gradient, [], 1);
        Assert.Equal(Enumerable.Repeat(2f, 8), gradient[..8]);
        Assert.All(gradient[8..], g => Assert.Equal(0f, g));
    }

    [Fact]
    public void MaxPool_Forward_TakesWindowMaxima()
    {
        var layer = new MaxPoolLayer(2, 3, 1);
        var output = new float[1];
        layer.Forward([], [1, 5, 9, 3, 2, 9], output, 1);
        Assert.Equal(5f, output[0]);
    }
}
