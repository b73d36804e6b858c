using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

public class DepthwiseConv2dLayerTests
{
    [Theory]
    [InlineData(5, 6, 3, 3, 1)]
    [InlineData(6, 5, 11, 3, 2)]   // vector and tail, stride 2
    [InlineData(7, 7, 16, 5, 2)]
    [InlineData(4, 4, 2, 1, 1)]
    public void Backward_MatchesFiniteDifferences(int height, int width, int channels, int kernel, int stride)
    {
        LayerGradientTests.CheckLayer(new DepthwiseConv2dLayer(height, width, channels, kernel, stride), batch: 2, seed: 21);
        LayerGradientTests.CheckLayer(new DepthwiseConv2dLayer(height, width, channels, kernel, stride, bias: false), batch: 2, seed: 23);
    }

    [Fact]
    public void Forward_WithoutBias_IsWithBiasZero()
    {
        var rng = new Xoshiro256(24);
        var (with, without) = (new DepthwiseConv2dLayer(5, 4, 11, 3, 2), new DepthwiseConv2dLayer(5, 4, 11, 3, 2, bias: false));
        Assert.Equal(with.ParameterCount - 11, without.ParameterCount);
        var weights = LayerGradientTests.Random(without.ParameterCount, rng);
        var input = LayerGradientTests.Random(2 * with.InputSize, rng);
        var (a, b) = (new float[2 * with.OutputSize], new float[2 * with.OutputSize]);
        with.Forward([.. weights, .. new float[11]], input, a, 2);
        Array.Fill(b, 7f); // stale values must be overwritten
        without.Forward(weights, input, b, 2);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(5, 6, 11, 3, 1)]
    [InlineData(7, 6, 9, 3, 2)]
    public void Forward_MatchesScalarOracle(int h, int w, int c, int k, int stride)
    {
        const int batch = 2;
        var rng = new Xoshiro256(22);
        var layer = new DepthwiseConv2dLayer(h, w, c, k, stride);
        var parameters = LayerGradientTests.Random(layer.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * h * w * c, rng);
        var output = new float[batch * layer.OutputSize];
        layer.Forward(parameters, input, output, batch);
        var (oh, ow, pad) = (layer.OutputHeight, layer.OutputWidth, k / 2);
        Assert.Equal((h + stride - 1) / stride, oh); // ⌈h/s⌉ rows for k = 3
        Assert.Equal((w + stride - 1) / stride, ow);
        for (var b = 0; b < batch; b++)
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                    for (var ch = 0; ch < c; ch++)
                    {
                        double sum = parameters[k * k * c + ch];
                        for (var ky = 0; ky < k; ky++)
                            for (var kx = 0; kx < k; kx++)
                            {
                                int iy = stride * y + ky - pad, ix = stride * x + kx - pad;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                sum += (double)input[((b * h + iy) * w + ix) * c + ch] * parameters[(ky * k + kx) * c + ch];
                            }
                        Assert.Equal(sum, output[((b * oh + y) * ow + x) * c + ch], 1e-4);
                    }
    }
}
