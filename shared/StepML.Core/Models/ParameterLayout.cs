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
                var offset = 0;
                int dense = 0, conv = 0;
                foreach (var layer in network.Layers)
                {
                    switch (layer)
                    {
                        case DenseLayer d:
                            list.Add(new($"dense{dense}.weight", offset, [d.InputSize, d.OutputSize]));
                            list.Add(new($"dense{dense}.bias", offset + d.InputSize * d.OutputSize, [d.OutputSize]));
                            dense++;
                            break;
                        case Conv2dLayer c:
                            list.Add(new($"conv{conv}.weight", offset, [c.Kernel, c.Kernel, c.Channels, c.Filters]));
                            list.Add(new($"conv{conv}.bias", offset + c.Kernel * c.Kernel * c.Channels * c.Filters, [c.Filters]));
                            conv++;
                            break;
                    }
                    offset += layer.ParameterCount;
                }
                return list;
            default:
                throw new ArgumentException($"no parameter layout for model '{model.Type}'");
        }
    }
}
