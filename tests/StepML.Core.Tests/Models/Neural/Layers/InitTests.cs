using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

/// <summary>Which initialisation each convolution draws: He's N(0, 2/fanIn) before a ReLU it feeds directly, PyTorch's
/// U(±1/√fanIn) when batch normalisation follows (see <see cref="WeightInit.Uniform"/>).</summary>
public sealed class InitTests
{
    private static (double Variance, double MaxAbs) Moments(ILayer layer, int weights, ulong seed)
    {
        var parameters = new float[layer.ParameterCount];
        layer.Initialize(parameters, new Xoshiro256(seed));
        var w = parameters.AsSpan(0, weights).ToArray();
        return (w.Select(v => (double)v * v).Average(), w.Max(v => Math.Abs((double)v)));
    }

    [Fact]
    public void Conv2d_WithBias_IsHe_WithoutBias_IsUniformOverSqrtFanIn()
    {
        const int fanIn = 3 * 3 * 8;
        var (he, _) = Moments(new Conv2dLayer(6, 6, 8, 64, 3), fanIn * 64, 1);
        var (uniform, max) = Moments(new Conv2dLayer(6, 6, 8, 64, 3, bias: false), fanIn * 64, 1);

        Assert.InRange(he, 0.9 * 2.0 / fanIn, 1.1 * 2.0 / fanIn);
        Assert.InRange(uniform, 0.9 / (3.0 * fanIn), 1.1 / (3.0 * fanIn));   // U(±b) has variance b²/3
        Assert.InRange(max, 0.95 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn));
    }

    [Fact]
    public void DepthwiseConv_WithoutBias_IsUniformOverSqrtFanIn()
    {
        const int fanIn = 9;
        var (variance, max) = Moments(new DepthwiseConv2dLayer(6, 6, 256, 3, 1, bias: false), fanIn * 256, 2);

        Assert.InRange(variance, 0.9 / (3.0 * fanIn), 1.1 / (3.0 * fanIn));
        Assert.InRange(max, 0.95 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn));
    }
}
