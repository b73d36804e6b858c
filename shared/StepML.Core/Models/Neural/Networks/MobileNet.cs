using StepML.Core.Jobs;

namespace StepML.Core.Models.Neural;

/// <summary>
/// MobileNet v1 (Howard et al., "MobileNets", 2017, Table 1) as the CIFAR literature adapts it to 32 × 32 inputs: the
/// stem is a 3 × 3 stride-1 convolution to 32 channels, then 13 depthwise-separable blocks (3 × 3 depthwise convolution,
/// BN, ReLU, 1 × 1 pointwise convolution, BN, ReLU) at 64, 128², 256², 512⁶, 1024² channels with stride 2 at the first
/// 128, 256, 512 and 1024 block (32 → 16 → 8 → 4 → 2 pixels; 28 → 14 → 7 → 4 → 2), global average pooling and a dense
/// layer. The width multiplier α scales every channel count (the paper's §4.2 "width multiplier").
/// </summary>
public static class MobileNet
{
    private static readonly (int Filters, int Stride)[] s_blocks =
    [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ];

    public static FeedForwardModel Create(int height, int width, int channels, double widthMultiplier, int classes, ImageAugmentation? augmentation = null)
    {
        var layers = new List<ILayer>();
        var shape = Blocks.ConvBnRelu(layers, new Shape(height, width, channels), Blocks.Scale(32, widthMultiplier), kernel: 3, stride: 1);
        foreach (var (filters, stride) in s_blocks)
        {
            var depthwise = new DepthwiseConv2dLayer(shape.Height, shape.Width, shape.Channels, 3, stride, bias: false);
            layers.Add(depthwise);
            shape = new Shape(depthwise.OutputHeight, depthwise.OutputWidth, shape.Channels);
            layers.Add(new BatchNormLayer(shape.Size, shape.Channels));
            layers.Add(new ReluLayer(shape.Size));
            shape = Blocks.ConvBnRelu(layers, shape, Blocks.Scale(filters, widthMultiplier), kernel: 1, stride: 1);
        }
        layers.Add(new GlobalAveragePoolLayer(shape.Height, shape.Width, shape.Channels));
        layers.Add(new DenseLayer(shape.Channels, classes, WeightInit.Xavier));
        return new FeedForwardModel(ModelTypes.MobileNet, classes, layers, augmentation);
    }
}
