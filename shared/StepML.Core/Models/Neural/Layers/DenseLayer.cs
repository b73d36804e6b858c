using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>Fully connected layer y = x·W + b with W stored input-major (<c>inputs × outputs</c>) then b.</summary>
public sealed class DenseLayer(int inputs, int outputs, WeightInit init) : ILayer
{
    public int InputSize { get; } = inputs > 0 ? inputs : throw new ArgumentOutOfRangeException(nameof(inputs));
    public int OutputSize { get; } = outputs > 0 ? outputs : throw new ArgumentOutOfRangeException(nameof(outputs));
    public int ParameterCount => checked((InputSize + 1) * OutputSize);

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        Init.Random(parameters[..(InputSize * OutputSize)], InputSize, OutputSize, init, random);
        parameters[(InputSize * OutputSize)..].Clear();
    }

    public void RegularizationMask(Span<float> mask)
    {
        mask[..(InputSize * OutputSize)].Fill(1f);
        mask[(InputSize * OutputSize)..].Clear();
    }

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var (n, m) = (InputSize, OutputSize);
        Sgemm.Multiply(false, false, batch, m, n, input, n, parameters, m, output, m, accumulate: false);
        Init.AddRowBias(output, batch, parameters.Slice(n * m, m));
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var (n, m) = (InputSize, OutputSize);
        // ∂W += xᵀ·∂y, ∂b += Σ_rows ∂y, ∂x = ∂y·Wᵀ.
        Sgemm.Multiply(true, false, n, m, batch, input, n, outputGradient, m, parameterGradient, m, accumulate: true);
        Init.AddColumnSums(outputGradient, batch, m, parameterGradient.Slice(n * m, m));
        if (!inputGradient.IsEmpty)
            Sgemm.Multiply(false, true, batch, n, m, outputGradient, m, parameters, m, inputGradient, n, accumulate: false);
    }
}
