using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>Global average pooling (Lin et al., "Network in network", 2014): an NHWC map of P pixels becomes its
/// per-channel mean, y_c = (1/P) Σ_p x_{p,c}; backward spreads ∂y_c/P to every pixel.</summary>
public sealed class GlobalAveragePoolLayer : ILayer
{
    private readonly int _pixels, _channels;

    public GlobalAveragePoolLayer(int height, int width, int channels)
    {
        if (height < 1 || width < 1 || channels < 1) throw new ArgumentException($"pooling shape {height}×{width}×{channels} must be positive");
        (_pixels, _channels) = (height * width, channels);
    }

    public int InputSize => _pixels * _channels;
    public int OutputSize => _channels;
    public int ParameterCount => 0;
    public void Initialize(Span<float> parameters, Xoshiro256 random) { }
    public void RegularizationMask(Span<float> mask) { }

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var c = _channels;
        for (var b = 0; b < batch; b++)
        {
            var y = output.Slice(b * c, c);
            var image = input.Slice(b * InputSize, InputSize);
            image[..c].CopyTo(y);
            for (var p = 1; p < _pixels; p++) TensorPrimitives.Add(y, image.Slice(p * c, c), y);
            TensorPrimitives.Multiply(y, 1f / _pixels, y);
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        var c = _channels;
        for (var b = 0; b < batch; b++)
        {
            var g = outputGradient.Slice(b * c, c);
            var image = inputGradient.Slice(b * InputSize, InputSize);
            TensorPrimitives.Multiply(g, 1f / _pixels, image[..c]);
            for (var p = 1; p < _pixels; p++) image[..c].CopyTo(image.Slice(p * c, c));
        }
    }
}
