namespace StepML.Core.Models.Neural;

/// <summary>An NHWC activation's shape.</summary>
internal readonly record struct Shape(int Height, int Width, int Channels)
{
    public int Size => checked(Height * Width * Channels);
}

/// <summary>The convolution + batch norm (+ ReLU) units the deep networks are built from.</summary>
internal static class Blocks
{
    /// <summary>round(α·channels), at least 1.</summary>
    public static int Scale(int channels, double widthMultiplier) => Math.Max(1, (int)Math.Round(channels * widthMultiplier));

    public static Shape ConvBn(List<ILayer> layers, Shape input, int filters, int kernel, int stride)
    {
        // No conv bias: the batch norm's β replaces it. With one, a channel whose inputs are all zero (dead ReLUs) has
        // a constant output, so zero batch variance, and its bias receives the 1/√ε-amplified gradient of every such
        // batch norm above it; MobileNet's weights blew up to 1e11 within a few steps that way.
        var conv = new Conv2dLayer(input.Height, input.Width, input.Channels, filters, kernel, stride, bias: false);
        layers.Add(conv);
        var output = new Shape(conv.OutputHeight, conv.OutputWidth, filters);
        layers.Add(new BatchNormLayer(output.Size, filters));
        return output;
    }

    public static Shape ConvBnRelu(List<ILayer> layers, Shape input, int filters, int kernel, int stride)
    {
        var output = ConvBn(layers, input, filters, kernel, stride);
        layers.Add(new ReluLayer(output.Size));
        return output;
    }
}
