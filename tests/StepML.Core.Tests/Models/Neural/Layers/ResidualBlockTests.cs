using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

public class ResidualBlockTests
{
    // conv → BN → ReLU → conv → BN, the CIFAR ResNet basic block, with stride 2 and a projection when the shape changes.
    private static ResidualBlock Basic(int h, int w, int c, int filters, int stride)
    {
        var first = new Conv2dLayer(h, w, c, filters, 3, stride);
        var (oh, ow) = (first.OutputHeight, first.OutputWidth);
        ILayer[] main =
        [
            first, new BatchNormLayer(oh * ow * filters, filters), new ReluLayer(oh * ow * filters),
            new Conv2dLayer(oh, ow, filters, filters, 3), new BatchNormLayer(oh * ow * filters, filters),
        ];
        ILayer[] shortcut = stride == 1 && c == filters ? [] : [new Conv2dLayer(h, w, c, filters, 1, stride), new BatchNormLayer(oh * ow * filters, filters)];
        return new ResidualBlock(h * w * c, main, shortcut);
    }

    // h = 1e-3: with 1e-2 some of the many pre-activations cross the ReLU's kink and the finite difference is off by ~10%.
    [Fact]
    public void Backward_IdentityShortcut_MatchesFiniteDifferences() =>
        LayerGradientTests.CheckLayer(Basic(4, 5, 3, 3, 1), batch: 3, seed: 51, h: 1e-3);

    [Fact]
    public void Backward_ProjectionShortcut_MatchesFiniteDifferences() =>
        LayerGradientTests.CheckLayer(Basic(6, 5, 2, 4, 2), batch: 3, seed: 52, h: 1e-3);

    [Fact]
    public void ForwardTraining_EqualsMainPlusShortcutRunLayerByLayer()
    {
        const int batch = 3;
        var rng = new Xoshiro256(53);
        var block = Basic(6, 6, 3, 5, 2);
        var parameters = LayerGradientTests.Random(block.ParameterCount, rng);
        var input = LayerGradientTests.Random(batch * block.InputSize, rng);
        var output = new float[batch * block.OutputSize];
        block.ForwardTraining(parameters, input, output, batch, new float[block.ScratchSize(batch)]);

        var offset = 0;
        float[] Run(IReadOnlyList<ILayer> layers)
        {
            var x = input;
            foreach (var layer in layers)
            {
                var y = new float[batch * layer.OutputSize];
                layer.ForwardTraining(parameters.AsSpan(offset, layer.ParameterCount), x, y, batch, new float[layer.ScratchSize(batch)]);
                offset += layer.ParameterCount;
                x = y;
            }
            return x;
        }
        var main = Run(block.Main);
        var shortcut = Run(block.Shortcut);
        Assert.Equal(block.ParameterCount, offset);
        for (var i = 0; i < output.Length; i++) Assert.Equal(main[i] + shortcut[i], output[i], 1e-5);
    }

    [Fact]
    public void Constructor_IdentityShortcutWithShapeChange_Throws() =>
        Assert.Throws<ArgumentException>(() => new ResidualBlock(4 * 4 * 2, [new Conv2dLayer(4, 4, 2, 3, 3)], []));
}
