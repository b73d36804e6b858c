using StepML.Core.Jobs;

namespace StepML.Core.Models.Neural;

/// <summary>
/// Residual networks for small images (He et al., CVPR 2016). Depth 6n + 2 (8, 20, 32, 44, 56, 110) is the paper's
/// CIFAR family (§4.2): a 3 × 3 convolution to 16 channels, three stages of n basic blocks at 16, 32 and 64 channels
/// (the first block of stages 2 and 3 has stride 2 and a projection shortcut), global average pooling and a dense layer.
/// Depth 18 is ResNet-18 as the CIFAR literature adapts it to 32 × 32 inputs (a 3 × 3 stride-1 stem and no max pool,
/// then 2 blocks at each of 64, 128, 256, 512 channels). Every convolution is followed by batch normalisation; the
/// width multiplier scales every channel count (rounded, at least 1).
/// </summary>
public static class ResNet
{
    public static bool IsValidDepth(int depth) => depth == 18 || (depth >= 8 && depth <= 200 && (depth - 2) % 6 == 0);

    public static FeedForwardModel Create(int height, int width, int channels, int depth, double widthMultiplier, int classes, ImageAugmentation? augmentation = null)
    {
        if (!IsValidDepth(depth))
            throw new JobSpecException("model.depth", $"{depth} is not a ResNet depth: use 6n + 2 between 8 and 200 (8, 20, 32, 56, 110) or 18");
        var (stages, blocks) = depth == 18 ? (new[] { 64, 128, 256, 512 }, 2) : (new[] { 16, 32, 64 }, (depth - 2) / 6);
        var layers = new List<ILayer>();
        var shape = new Shape(height, width, channels);
        shape = Blocks.ConvBnRelu(layers, shape, Blocks.Scale(stages[0], widthMultiplier), kernel: 3, stride: 1);
        for (var s = 0; s < stages.Length; s++)
            for (var b = 0; b < blocks; b++)
            {
                var stride = s > 0 && b == 0 ? 2 : 1;
                var filters = Blocks.Scale(stages[s], widthMultiplier);
                shape = Basic(layers, shape, filters, stride);
            }
        layers.Add(new GlobalAveragePoolLayer(shape.Height, shape.Width, shape.Channels));
        layers.Add(new DenseLayer(shape.Channels, classes, WeightInit.Xavier));
        return new FeedForwardModel(ModelTypes.ResNet, classes, layers, augmentation);
    }

    // relu(BN(conv(relu(BN(conv(x))))) + shortcut(x)), shortcut = identity or BN(1 × 1 conv, stride s).
    private static Shape Basic(List<ILayer> layers, Shape input, int filters, int stride)
    {
        var main = new List<ILayer>();
        var middle = Blocks.ConvBnRelu(main, input, filters, kernel: 3, stride);
        var output = Blocks.ConvBn(main, middle, filters, kernel: 3, stride: 1);
        var shortcut = new List<ILayer>();
        if (stride != 1 || input.Channels != filters) Blocks.ConvBn(shortcut, input, filters, kernel: 1, stride);
        layers.Add(new ResidualBlock(input.Size, main, shortcut));
        layers.Add(new ReluLayer(output.Size));
        return output;
    }
}
