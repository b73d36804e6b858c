using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Models;

/// <summary>A model's outputs for each row: <see cref="Classes"/> is the predicted class (0/1 for logistic and SVM,
/// the class id for softmax/MLP/CNN, the cluster id for KMeans); <see cref="Values"/> holds <see cref="Columns"/>
/// numbers per row, named by <see cref="Kind"/>: "probability" (logistic: P(y = 1)), "score" (SVM: w·x + b),
/// "probabilities" (softmax/MLP/CNN: one per class) or "distance" (KMeans: squared distance to the centroid).</summary>
public sealed record PredictionSet(string Kind, int Columns, float[] Values, int[] Classes)
{
    public int Rows => Classes.Length;
}

public static class Predictions
{
    /// <summary>Scores every row of <paramref name="data"/> with the same kernels training and evaluation use, so a
    /// prediction's class agrees with what <see cref="IModel.Evaluate"/> counts as correct.</summary>
    public static PredictionSet Of(IModel model, ReadOnlySpan<float> parameters, Partition data)
    {
        if (parameters.Length != model.ParameterCount)
            throw new ArgumentException($"model '{model.Type}' has {model.ParameterCount} parameters, the tensor {parameters.Length}");
        if (data.Features != model.Features)
            throw new ArgumentException($"the data has {data.Features} features, the model {model.Features}");
        var rows = data.Rows;
        var classes = new int[rows];
        switch (model)
        {
            case LogisticRegression or LinearSvm:
            {
                var values = new float[rows];
                var w = parameters[..model.Features];
                var bias = parameters[model.Features];
                var logistic = model is LogisticRegression;
                for (var r = 0; r < rows; r++)
                {
                    var z = LinearKernels.Margin(w, bias, data, r);
                    classes[r] = z > 0 ? 1 : 0;
                    values[r] = logistic ? 1f / (1f + MathF.Exp(-z)) : z;
                }
                return new PredictionSet(logistic ? "probability" : "score", 1, values, classes);
            }
            case KMeans kmeans:
            {
                var distances = new float[rows];
                kmeans.Assign(parameters, data, 0, rows, classes, distances);
                return new PredictionSet("distance", 1, distances, classes);
            }
            case FeedForwardModel network:
            {
                var probabilities = network.Probabilities(parameters, data);
                for (var r = 0; r < rows; r++)
                    classes[r] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities.AsSpan(r * network.Classes, network.Classes));
                return new PredictionSet("probabilities", network.Classes, probabilities, classes);
            }
            default:
                throw new ArgumentException($"model '{model.Type}' cannot predict");
        }
    }
}
