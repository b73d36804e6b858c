using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>
/// A model over a flat parameter vector (the tensor the state machine's rounds pass on). Its objective is
/// F(w) = (1/N) Σ loss(w; x_j, y_j) + (λ/2)·‖m ∘ w‖², where m is <see cref="RegularizationMask"/> (0 for biases).
/// </summary>
public interface IModel
{
    string Type { get; }
    int Features { get; }
    int ParameterCount { get; }

    /// <summary>The metric users read next to the loss: "accuracy" (fraction correct) or "inertia".</summary>
    string MetricName => "accuracy";

    /// <summary>Initial parameters, deterministic in the seed.</summary>
    void Initialize(Span<float> parameters, ulong seed);

    /// <summary>Whether <see cref="Initialize(Span{float}, ulong, Partition)"/> reads the data; when false, Prepare
    /// never loads a partition to start a run.</summary>
    bool InitializesFromData => false;

    /// <summary>Initial parameters that depend on the data (k-means++ seeding); Prepare passes the first partition.</summary>
    void Initialize(Span<float> parameters, ulong seed, Partition sample) => Initialize(parameters, seed);

    /// <summary>Writes 1 for parameters under the L2 penalty and 0 for those outside it (biases).</summary>
    void RegularizationMask(Span<float> mask);

    /// <summary>Sums over all rows of the data loss and of the metric (correct predictions, or squared distances for
    /// inertia).</summary>
    Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data);

    /// <summary>Writes 1 for <b>state</b>: parameters that training sets without a gradient (batch normalisation's
    /// running moments), 0 elsewhere. For those the worker's statistic is the state's new value, so the merged
    /// statistic, a sample-weighted average, is the new state (<see cref="ModelState.Apply"/>).</summary>
    void StateMask(Span<float> mask) => mask.Clear();
}

/// <summary>A model trained by gradients (every model but KMeans).</summary>
public interface IDifferentiableModel : IModel
{
    /// <summary>Overwrites <paramref name="gradient"/> with the mean gradient of the data loss over the selected
    /// rows and returns their mean loss. No regularisation term: algorithms add it where their maths says.</summary>
    double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient);
}

/// <summary>Rows <c>[Start, Start+Count)</c> of <see cref="Order"/> (a permutation of the partition's rows), or
/// of the partition itself when <see cref="Order"/> is null (contiguous, no gather).</summary>
public readonly record struct RowSelection(int Start, int Count, int[]? Order = null)
{
    public static RowSelection All(Partition data) => new(0, data.Rows);

    public int RowAt(int i) => Order is null ? Start + i : Order[Start + i];

    /// <summary>Seed for the batch's own randomness (image augmentation), drawn from (job seed, partition, step) by
    /// the batch schedule; 0 = none (evaluation, tests).</summary>
    public ulong Seed { get; init; }
}

public readonly record struct Evaluation(double LossSum, double CorrectSum, long Rows)
{
    public double MeanLoss => Rows == 0 ? double.NaN : LossSum / Rows;
    public double Accuracy => Rows == 0 ? double.NaN : CorrectSum / Rows;

    public static Evaluation operator +(Evaluation a, Evaluation b) => new(a.LossSum + b.LossSum, a.CorrectSum + b.CorrectSum, a.Rows + b.Rows);
}

public static class Models
{
    public static IModel Create(Jobs.ModelSpec spec, int features) => spec.Type switch
    {
        Jobs.ModelTypes.Logistic => new LogisticRegression(features),
        Jobs.ModelTypes.Svm => new LinearSvm(features, spec.Loss),
        Jobs.ModelTypes.KMeans => new KMeans(features, spec.Clusters),
        Jobs.ModelTypes.Softmax or Jobs.ModelTypes.Mlp or Jobs.ModelTypes.Cnn or Jobs.ModelTypes.ResNet or Jobs.ModelTypes.MobileNet => Neural.NeuralModels.Create(spec, features),
        _ => throw new Jobs.JobSpecException("model.type", $"'{spec.Type}' is not a model: use one of {string.Join(", ", Jobs.ModelTypes.All)}"),
    };

    /// <summary>(λ/2)·‖m ∘ w‖² + λ₁·‖m ∘ w‖₁.</summary>
    public static double Regularization(ReadOnlySpan<float> parameters, ReadOnlySpan<float> mask, double l2, double l1 = 0)
    {
        double sum = 0, abs = 0;
        for (var i = 0; i < parameters.Length; i++)
        {
            sum += (double)mask[i] * parameters[i] * parameters[i];
            abs += mask[i] * Math.Abs((double)parameters[i]);
        }
        return 0.5 * l2 * sum + (l1 > 0 ? l1 * abs : 0);
    }
}
