using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

/// <summary>The convolution against a direct scalar oracle, and the gradients of the strided and pointwise ones
/// (stride 1 with k ≥ 3 is in <see cref="LayerGradientTests"/>).</summary>
public class Conv2dLayerTests
{
    [Theory]
    [InlineData(6, 5, 3, 4, 3, 2)]
    [InlineData(7, 7, 2, 3, 3, 2)]
    [InlineData(5, 4, 5, 6, 1, 1)]   // pointwise: im2col skipped
    [InlineData(5, 6, 3, 4, 1, 2)]   // strided pointwise (ResNet's projection shortcut)
    public void Backward_MatchesFiniteDifferences(int height, int width, int channels, int filters, int kernel, int stride)
    {
        LayerGradientTests.CheckLayer(new Conv2dLayer(height, width, channels, filters, kernel, stride), batch: 3, seed: 31);
        LayerGradientTests.CheckLayer(new Conv2dLayer(height, width, channels, filters, kernel, stride, bias: false), batch: 3, seed: 33);
    }

    [Fact]
    public void Forward_WithoutBias_IsWithBiasZero()
    {
        var rng = new Xoshiro256(34);
        var (with, without) = (new Conv2dLayer(5, 5, 3, 4, 3, 2), new Conv2dLayer(5, 5, 3, 4, 3, 2, bias: false));
        Assert.Equal(with.ParameterCount - 4, without.ParameterCount);
        var weights = LayerGradientTests.Random(without.ParameterCount, rng);
        var input = LayerGradientTests.Random(2 * with.InputSize, rng);
        var (a, b) = (new float[2 * with.OutputSize], new float[2 * with.OutputSize]);
        with.Forward([.. weights, 0, 0, 0, 0], input, a, 2);
        without.Forward(weights, input, b, 2);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(5, 6, 2, 3, 3, 1)]
    [InlineData(7, 6, 3, 5, 3, 2)]
    [InlineData(6, 5, 2, 3, 5, 1)]
    [InlineData(5, 5, 4, 3, 1, 1)]
    [InlineData(5, 6, 2, 3, 1, 2)]
    public void Forward_MatchesDirectConvolution(int h, int w, int c, int f, int k, int stride)
    {
        const int batch = 2;
        var rng = new Xoshiro256(32);
        var layer = new Conv2dLayer(h, w, c, f, k, stride);
        var parameters = LayerGradientTests.Random(layer.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * h * w * c, rng);
        var output = new float[batch * layer.OutputSize];
        layer.Forward(parameters, input, output, batch);
        var (oh, ow, pad) = (layer.OutputHeight, layer.OutputWidth, k / 2);
        Assert.Equal((h + 2 * pad - k) / stride + 1, oh);
        for (var b = 0; b < batch; b++)
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                    for (var o = 0; o < f; o++)
                    {
                        double sum = parameters[k * k * c * f + o];
                        for (var ky = 0; ky < k; ky++)
                            for (var kx = 0; kx < k; kx++)
                                for (var ch = 0; ch < c; ch++)
                                {
                                    int iy = stride * y + ky - pad, ix = stride * x + kx - pad;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    sum += (double)input[((b * h + iy) * w + ix) * c + ch] * parameters[((ky * k + kx) * c + ch) * f + o];
                                }
                        Assert.Equal(sum, output[((b * oh + y) * ow + x) * f + o], 1e-4);
                    }
    }
}
