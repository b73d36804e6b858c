using StepML.Core.Jobs;

namespace StepML.Core.Models.Neural;

/// <summary>The networks of the job spec's <c>model.type</c>: "softmax", "mlp", "cnn", and the deep "resnet"
/// (<see cref="ResNet"/>) and "mobilenet" (<see cref="MobileNet"/>).</summary>
public static class NeuralModels
{
    /// <summary>Multinomial logistic regression: one dense layer to the K logits.</summary>
    public static FeedForwardModel Softmax(int features, int classes) =>
        new(ModelTypes.Softmax, classes, [new DenseLayer(features, classes, WeightInit.Xavier)]);

    /// <summary>Dense + ReLU for each width in <paramref name="hidden"/>, then a dense layer to the logits.</summary>
    public static FeedForwardModel Mlp(int features, IReadOnlyList<int> hidden, int classes)
    {
        var layers = new List<ILayer>();
        var width = features;
        foreach (var h in hidden)
        {
            layers.Add(new DenseLayer(width, h, WeightInit.He));
            layers.Add(new ReluLayer(h));
            width = h;
        }
        layers.Add(new DenseLayer(width, classes, WeightInit.Xavier));
        return new FeedForwardModel(ModelTypes.Mlp, classes, layers);
    }

    /// <summary>For each entry of <paramref name="filters"/>: a k×k "same" convolution, ReLU and 2×2 max pooling;
    /// then a dense layer from the last feature map to the logits. Input is height × width × channels (NHWC).</summary>
    public static FeedForwardModel Cnn(int height, int width, int channels, IReadOnlyList<int> filters, int kernel, int classes, ImageAugmentation? augmentation = null)
    {
        var layers = new List<ILayer>();
        var (h, w, c) = (height, width, channels);
        foreach (var f in filters)
        {
            if (h < 2 || w < 2)
                throw new JobSpecException("model.channels", $"{filters.Count} conv + pooling layers shrink a {height}×{width} image below 2×2: use fewer entries");
            layers.Add(new Conv2dLayer(h, w, c, f, kernel));
            layers.Add(new ReluLayer(h * w * f));
            var pool = new MaxPoolLayer(h, w, f);
            layers.Add(pool);
            (h, w, c) = (pool.OutputHeight, pool.OutputWidth, f);
        }
        layers.Add(new DenseLayer(h * w * c, classes, WeightInit.Xavier));
        return new FeedForwardModel(ModelTypes.Cnn, classes, layers, augmentation);
    }

    /// <summary>Builds the network a model spec describes; <see cref="ModelSpec.Classes"/> and, for the CNN,
    /// <see cref="ModelSpec.InputShape"/> must be resolved (Prepare fills them from the data).</summary>
    public static FeedForwardModel Create(ModelSpec spec, int features)
    {
        if (spec.Classes < 2)
            throw new JobSpecException("model.classes", $"{spec.Classes}: set the number of classes (≥ 2), or leave it out so Prepare counts the labels");
        switch (spec.Type)
        {
            case ModelTypes.Softmax:
                return Softmax(features, spec.Classes);
            case ModelTypes.Mlp:
                return Mlp(features, spec.Hidden, spec.Classes);
            case ModelTypes.Cnn:
                var (h, w, c) = ImageShape(spec, features);
                return Cnn(h, w, c, spec.Channels, spec.KernelSize, spec.Classes, Augmentation(spec, h, w, c));
            case ModelTypes.ResNet:
                (h, w, c) = ImageShape(spec, features);
                return ResNet.Create(h, w, c, spec.Depth, spec.WidthMultiplier, spec.Classes, Augmentation(spec, h, w, c));
            case ModelTypes.MobileNet:
                (h, w, c) = ImageShape(spec, features);
                return MobileNet.Create(h, w, c, spec.WidthMultiplier, spec.Classes, Augmentation(spec, h, w, c));
            default:
                throw new JobSpecException("model.type", $"'{spec.Type}' is not a neural network model");
        }
    }

    private static ImageAugmentation Augmentation(ModelSpec spec, int h, int w, int c) => new(h, w, c, spec.CropPadding, spec.HorizontalFlip);

    private static (int Height, int Width, int Channels) ImageShape(ModelSpec spec, int features)
    {
        if (spec.InputShape.Length != 3)
            throw new JobSpecException("model.inputShape", $"'{spec.Type}' needs the image shape [height, width, channels]; image datasets set it, for CSV/LIBSVM data give it");
        var (h, w, c) = (spec.InputShape[0], spec.InputShape[1], spec.InputShape[2]);
        if ((long)h * w * c != features)
            throw new JobSpecException("model.inputShape", $"[{h}, {w}, {c}] is {(long)h * w * c} values but the dataset has {features} features");
        return (h, w, c);
    }
}
