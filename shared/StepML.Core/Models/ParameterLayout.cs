using StepML.Core.Models.Neural;

namespace StepML.Core.Models;

/// <summary>One named parameter tensor inside a model's flat parameter vector: elements
/// [<see cref="Offset"/>, Offset + product(<see cref="Shape"/>)), row-major.</summary>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Where each parameter tensor of a model lives in its flat vector (the SMLT file's payload), in order. This is the
/// one description of the layout that export, the README and the Python reader follow:
/// logistic/SVM: weights[d], bias[1]; KMeans: centroids[k, d];
/// softmax/MLP: per dense layer i, dense{i}.weight[inputs, outputs] (input-major, y = x·W + b), dense{i}.bias[outputs];
/// CNN: per conv layer i, conv{i}.weight[k, k, C, F] (ky, kx, input channel, filter), conv{i}.bias[F], then the dense
/// layer over the last feature map flattened as height × width × channels (NHWC).
/// </summary>
public static class ParameterLayout
{
    public static IReadOnlyList<ParameterTensor> Of(IModel model)
    {
        switch (model)
        {
            case LogisticRegression or LinearSvm:
                return [new("weights", 0, [model.Features]), new("bias", model.Features, [1])];
            case KMeans k:
                return [new("centroids", 0, [k.Clusters, k.Features])];
            case FeedForwardModel network:
                var list = new List<ParameterTensor>();
                var counters = new Dictionary<string, int>();
                Layers(network.Layers, 0, "", counters, list);
                return list;
            default:
                throw new ArgumentException($"no parameter layout for model '{model.Type}'");
        }
    }

    // Names count each kind of layer in order (conv0, conv1, …, bn0, …); a residual block's layers are named inside
    // block{i}.main. and block{i}.shortcut., so a ResNet reads block3.main.conv1.weight.
    private static int Layers(IEnumerable<ILayer> layers, int offset, string prefix, Dictionary<string, int> counters, List<ParameterTensor> list)
    {
        string Next(string kind)
        {
            var key = prefix + kind;
            counters[key] = counters.GetValueOrDefault(key) + 1;
            return $"{key}{counters[key] - 1}";
        }
        foreach (var layer in layers)
        {
            switch (layer)
            {
                case DenseLayer d:
                    var dense = Next("dense");
                    list.Add(new($"{dense}.weight", offset, [d.InputSize, d.OutputSize]));
                    list.Add(new($"{dense}.bias", offset + d.InputSize * d.OutputSize, [d.OutputSize]));
                    break;
                case Conv2dLayer c:
                    var conv = Next("conv");
                    list.Add(new($"{conv}.weight", offset, [c.Kernel, c.Kernel, c.Channels, c.Filters]));
                    if (c.HasBias) list.Add(new($"{conv}.bias", offset + c.Kernel * c.Kernel * c.Channels * c.Filters, [c.Filters]));
                    break;
                case DepthwiseConv2dLayer dw:
                    var depthwise = Next("depthwise");
                    list.Add(new($"{depthwise}.weight", offset, [dw.Kernel, dw.Kernel, dw.Channels]));
                    if (dw.HasBias) list.Add(new($"{depthwise}.bias", offset + dw.Kernel * dw.Kernel * dw.Channels, [dw.Channels]));
                    break;
                case BatchNormLayer bn:
                    var norm = Next("bn");
                    var c4 = bn.Channels;
                    list.Add(new($"{norm}.weight", offset, [c4]));
                    list.Add(new($"{norm}.bias", offset + c4, [c4]));
                    list.Add(new($"{norm}.running_mean", offset + 2 * c4, [c4]));
                    list.Add(new($"{norm}.running_square", offset + 3 * c4, [c4]));
                    break;
                case ResidualBlock block:
                    var name = Next("block");
                    var after = Layers(block.Main, offset, $"{name}.main.", counters, list);
                    Layers(block.Shortcut, after, $"{name}.shortcut.", counters, list);
                    break;
            }
            offset += layer.ParameterCount;
        }
        return offset;
    }
}
