using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>
/// Binary logistic regression with labels y ∈ {0, 1}: parameters are d weights then the bias b,
/// z = w·x + b, loss = log(1 + e^z) − y·z (computed as max(z,0) + log1p(e^−|z|) − y·z, which never overflows),
/// ∂loss/∂z = σ(z) − y. Dense and CSR partitions; the sparse kernel touches only the non-zeros.
/// </summary>
public sealed class LogisticRegression(int features) : IDifferentiableModel
{
    public string Type => Jobs.ModelTypes.Logistic;
    public int Features { get; } = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features));
    public int ParameterCount => Features + 1;

    public void Initialize(Span<float> parameters, ulong seed) => parameters.Clear();

    public void RegularizationMask(Span<float> mask)
    {
        mask[..Features].Fill(1f);
        mask[Features] = 0f;
    }

    public double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
    {
        LinearKernels.CheckShapes(this, parameters, data);
        return LinearKernels.LossAndGradient<LogisticLoss>(parameters, data, rows, gradient);
    }

    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        LinearKernels.CheckShapes(this, parameters, data);
        return LinearKernels.Evaluate<LogisticLoss>(parameters, data);
    }
}
