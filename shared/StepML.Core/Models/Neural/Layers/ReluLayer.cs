using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>y = max(x, 0); the gradient passes where y &gt; 0.</summary>
public sealed class ReluLayer(int size) : ILayer
{
    public int InputSize { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size));
    public int OutputSize => InputSize;
    public int ParameterCount => 0;
    public void Initialize(Span<float> parameters, Xoshiro256 random) { }
    public void RegularizationMask(Span<float> mask) { }

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch) =>
        TensorPrimitives.Max(input[..(batch * InputSize)], 0f, output[..(batch * InputSize)]);

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        var count = batch * InputSize;
        var i = 0;
        for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var positive = Vector256.GreaterThan(Vector256.Create(output.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            (positive & Vector256.Create(outputGradient.Slice(i, Vector256<float>.Count))).CopyTo(inputGradient.Slice(i));
        }
        for (; i < count; i++) inputGradient[i] = output[i] > 0f ? outputGradient[i] : 0f;
    }
}
