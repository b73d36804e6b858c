using StepML.Core.Data;
using StepML.Core.Jobs;

namespace StepML.Core.Models;

/// <summary>
/// Linear support vector machine: parameters are d weights then the bias b, z = w·x + b, labels y ∈ {0, 1} read as
/// s = 2y − 1 ∈ {−1, +1}. Loss <c>hinge</c>: max(0, 1 − s·z), trained with its subgradient −s·[s·z &lt; 1];
/// <c>squared-hinge</c>: max(0, 1 − s·z)², gradient −2s·max(0, 1 − s·z) (Keerthi and DeCoste 2005, "L2-SVM").
/// The L2 penalty (λ/2)‖w‖² leaves the bias out. Dense and CSR partitions.
/// </summary>
public sealed class LinearSvm : IDifferentiableModel
{
    private readonly bool _squared;

    public LinearSvm(int features, string loss = SvmLosses.Hinge)
    {
        Features = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features));
        _squared = loss switch
        {
            SvmLosses.Hinge => false,
            SvmLosses.SquaredHinge => true,
            _ => throw new JobSpecException("model.loss", $"'{loss}' is not an SVM loss: use \"{SvmLosses.Hinge}\" or \"{SvmLosses.SquaredHinge}\""),
        };
    }

    public string Type => ModelTypes.Svm;
    public string Loss => _squared ? SvmLosses.SquaredHinge : SvmLosses.Hinge;
    public int Features { get; }
    public int ParameterCount => checked(Features + 1);

    public void Initialize(Span<float> parameters, ulong seed) => parameters.Clear();

    public void RegularizationMask(Span<float> mask)
    {
        mask[..Features].Fill(1f);
        mask[Features] = 0f;
    }

    public double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
    {
        LinearKernels.CheckShapes(this, parameters, data);
        return _squared
            ? LinearKernels.LossAndGradient<SquaredHingeLoss>(parameters, data, rows, gradient)
            : LinearKernels.LossAndGradient<HingeLoss>(parameters, data, rows, gradient);
    }

    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        LinearKernels.CheckShapes(this, parameters, data);
        return _squared ? LinearKernels.Evaluate<SquaredHingeLoss>(parameters, data) : LinearKernels.Evaluate<HingeLoss>(parameters, data);
    }
}
