using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

public class BatchNormLayerTests
{
    [Theory]
    [InlineData(3, 5)]     // scalar tail only
    [InlineData(4, 11)]    // vector and tail
    [InlineData(1, 16)]
    public void Backward_TrainingMode_MatchesFiniteDifferences(int pixels, int channels) =>
        LayerGradientTests.CheckLayer(new BatchNormLayer(pixels * channels, channels), batch: 3, seed: 11);

    [Fact]
    public void ForwardTraining_MatchesScalarOracle()
    {
        const int pixels = 3, c = 11, batch = 4;
        var rng = new Xoshiro256(12);
        var layer = new BatchNormLayer(pixels * c, c);
        var parameters = LayerGradientTests.Random(layer.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * pixels * c, rng, scale: 3);
        for (var i = 0; i < input.Length; i++) input[i] += 5f; // a mean well away from 0
        var output = new float[input.Length];
        layer.ForwardTraining(parameters, input, output, batch, []);
        for (var ch = 0; ch < c; ch++)
        {
            double sum = 0, squares = 0;
            var n = batch * pixels;
            for (var r = 0; r < n; r++) sum += input[r * c + ch];
            var mean = sum / n;
            for (var r = 0; r < n; r++) squares += Math.Pow(input[r * c + ch] - mean, 2);
            var sd = Math.Sqrt(squares / n + BatchNormLayer.Epsilon);
            for (var r = 0; r < n; r++)
                Assert.Equal(parameters[ch] * (input[r * c + ch] - mean) / sd + parameters[c + ch], output[r * c + ch], 1e-4);
        }
    }

    [Fact]
    public void Forward_Inference_UsesRunningMoments()
    {
        const int c = 3;
        var layer = new BatchNormLayer(2 * c, c);
        // γ, β, E[x], E[x²]: channel variances 4 − 1 = 3, 9 − 4 = 5, 1 − 0 = 1.
        float[] parameters = [2, 1, 0.5f, 0, -1, 1, 1, 2, 0, 4, 9, 1];
        float[] input = [3, 0, 7, -1, 2, 1];
        var output = new float[6];
        layer.Forward(parameters, input, output, 1);
        float[] mean = [1, 2, 0], variance = [3, 5, 1], gamma = [2, 1, 0.5f], beta = [0, -1, 1];
        for (var i = 0; i < 6; i++)
        {
            var ch = i % c;
            Assert.Equal(gamma[ch] * (input[i] - mean[ch]) / Math.Sqrt(variance[ch] + BatchNormLayer.Epsilon) + beta[ch], output[i], 1e-5);
        }
    }

    [Fact]
    public void FinishState_AfterBackward_IsMovingAverageOfBatchMoments()
    {
        const int pixels = 2, c = 5, batch = 3;
        var rng = new Xoshiro256(13);
        var layer = new BatchNormLayer(pixels * c, c);
        var parameters = LayerGradientTests.Random(layer.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * pixels * c, rng);
        var output = new float[input.Length];
        layer.ForwardTraining(parameters, input, output, batch, []);
        var gradient = new float[layer.ParameterCount];
        layer.Backward(parameters, input, output, new float[output.Length], new float[input.Length], gradient, batch);
        for (var i = 2 * c; i < 4 * c; i++) gradient[i] /= batch; // the model divides by the batch's rows
        layer.FinishState(parameters, gradient);
        for (var ch = 0; ch < c; ch++)
        {
            double first = 0, second = 0;
            for (var r = 0; r < batch * pixels; r++)
            {
                first += input[r * c + ch];
                second += input[r * c + ch] * (double)input[r * c + ch];
            }
            var n = batch * pixels;
            Assert.Equal(0.9 * parameters[2 * c + ch] + 0.1 * first / n, gradient[2 * c + ch], 1e-5);
            Assert.Equal(0.9 * parameters[3 * c + ch] + 0.1 * second / n, gradient[3 * c + ch], 1e-5);
        }
    }

    /// <summary>The training forward pass keeps the batch moments in its scratch; backward with them gives exactly what
    /// Backward gives by recomputing them (the one-pass ∂β, ∂γ sums and the one-pass ∂x included).</summary>
    [Theory]
    [InlineData(784, 16, 3)]  // ResNet's first stage: several 512-float tiles per call
    [InlineData(5, 7, 2)]     // a partial tile
    public void BackwardTraining_WithKeptMoments_EqualsBackward(int pixels, int c, int batch)
    {
        var rng = new Xoshiro256(14);
        var layer = new BatchNormLayer(pixels * c, c);
        var parameters = LayerGradientTests.Random(layer.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * pixels * c, rng, scale: 2);
        var outputGradient = LayerGradientTests.Random(input.Length, rng);
        var output = new float[input.Length];
        var scratch = new float[layer.ScratchSize(batch)];
        Assert.Equal(2 * c, scratch.Length);
        layer.ForwardTraining(parameters, input, output, batch, scratch);
        var (kept, recomputed) = (new float[layer.ParameterCount], new float[layer.ParameterCount]);
        var (dxKept, dxRecomputed) = (new float[input.Length], new float[input.Length]);
        layer.BackwardTraining(parameters, input, output, outputGradient, dxKept, kept, batch, scratch);
        layer.Backward(parameters, input, output, outputGradient, dxRecomputed, recomputed, batch);
        Assert.Equal(recomputed, kept);
        Assert.Equal(dxRecomputed, dxKept);
        Assert.Contains(dxKept, v => v != 0f);
    }

    [Fact]
    public void StateMask_MarksRunningMomentsOnly()
    {
        var layer = new BatchNormLayer(8, 4);
        var mask = new float[16];
        layer.StateMask(mask);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], mask);
    }

    /// <summary>The merge rule the README states: the sample-weighted average of four workers' new states equals the
    /// state one worker reaches on the union of their batches. One batch-norm layer, after a convolution: a later one
    /// would see inputs that an earlier layer normalised with each worker's own batch statistics, which differ.</summary>
    [Fact]
    public void LossAndGradient_FourWorkersMerged_EqualsOneWorkerOnUnion()
    {
        const int rows = 40, h = 4, w = 4, c = 3;
        var model = new FeedForwardModel("bn", 3,
            [new Conv2dLayer(h, w, c, 5, 3), new BatchNormLayer(h * w * 5, 5), new ReluLayer(h * w * 5), new GlobalAveragePoolLayer(h, w, 5), new DenseLayer(5, 3, WeightInit.Xavier)]);
        var rng = new Xoshiro256(14);
        var labels = new float[rows];
        for (var r = 0; r < rows; r++) labels[r] = rng.NextInt(3);
        var data = Partition.CreateDense(h * w * c, labels, LayerGradientTests.Random(rows * h * w * c, rng));
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 15);
        Assert.True(ModelState.Any(model, out var state));

        var union = new float[model.ParameterCount];
        model.LossAndGradient(parameters, data, new RowSelection(0, rows), union);
        var merged = new double[model.ParameterCount];
        int[] sizes = [7, 13, 9, 11];
        var start = 0;
        foreach (var size in sizes)
        {
            var g = new float[model.ParameterCount];
            model.LossAndGradient(parameters, data, new RowSelection(start, size), g);
            for (var i = 0; i < g.Length; i++) merged[i] += (double)size / rows * g[i];
            start += size;
        }

        var checkedSlots = 0;
        for (var i = 0; i < state.Length; i++)
        {
            if (state[i] == 0f) continue;
            checkedSlots++;
            Assert.Equal(union[i], merged[i], 1e-4);
            Assert.NotEqual(parameters[i], union[i]); // the state moved
        }
        Assert.True(checkedSlots > 0);
    }
}
