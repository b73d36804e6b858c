using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>2×2 max pooling, stride 2, NHWC; an odd last row or column is dropped. The gradient goes to the first
/// maximum of each window.</summary>
public sealed class MaxPoolLayer : ILayer
{
    private readonly int _height, _width, _channels;

    public MaxPoolLayer(int height, int width, int channels)
    {
        if (height < 2 || width < 2 || channels < 1) throw new ArgumentException($"pooling needs an image of at least 2×2 (got {height}×{width}×{channels})");
        (_height, _width, _channels) = (height, width, channels);
    }

    public int OutputHeight => _height / 2;
    public int OutputWidth => _width / 2;
    public int InputSize => _height * _width * _channels;
    public int OutputSize => OutputHeight * OutputWidth * _channels;
    public int ParameterCount => 0;
    public void Initialize(Span<float> parameters, Xoshiro256 random) { }
    public void RegularizationMask(Span<float> mask) { }

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var (w, c, oh, ow) = (_width, _channels, OutputHeight, OutputWidth);
        for (var b = 0; b < batch; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            var pooled = output.Slice(b * OutputSize, OutputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                {
                    var o = pooled.Slice((y * ow + x) * c, c);
                    var top = (2 * y * w + 2 * x) * c;
                    var bottom = top + w * c;
                    var ch = 0;
                    for (; ch <= c - Vector256<float>.Count; ch += Vector256<float>.Count)
                    {
                        var m = Vector256.Max(Vector256.Create(image.Slice(top + ch, 8)), Vector256.Create(image.Slice(top + c + ch, 8)));
                        m = Vector256.Max(m, Vector256.Max(Vector256.Create(image.Slice(bottom + ch, 8)), Vector256.Create(image.Slice(bottom + c + ch, 8))));
                        m.CopyTo(o.Slice(ch));
                    }
                    for (; ch < c; ch++)
                        o[ch] = MathF.Max(MathF.Max(image[top + ch], image[top + c + ch]), MathF.Max(image[bottom + ch], image[bottom + c + ch]));
                }
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        var (w, c, oh, ow) = (_width, _channels, OutputHeight, OutputWidth);
        inputGradient[..(batch * InputSize)].Clear();
        for (var b = 0; b < batch; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            var pooled = output.Slice(b * OutputSize, OutputSize);
            var dy = outputGradient.Slice(b * OutputSize, OutputSize);
            var dx = inputGradient.Slice(b * InputSize, InputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                {
                    var o = (y * ow + x) * c;
                    var top = (2 * y * w + 2 * x) * c;
                    var bottom = top + w * c;
                    var ch = 0;
                    // Windows do not overlap, so each input is written once: the gradient goes to the first maximum.
                    for (; ch <= c - Vector256<float>.Count; ch += Vector256<float>.Count)
                    {
                        var max = Vector256.Create(pooled.Slice(o + ch, 8));
                        var g = Vector256.Create(dy.Slice(o + ch, 8));
                        var taken = Vector256.Equals(Vector256.Create(image.Slice(top + ch, 8)), max);
                        (taken & g).CopyTo(dx.Slice(top + ch));
                        var here = Vector256.AndNot(Vector256.Equals(Vector256.Create(image.Slice(top + c + ch, 8)), max), taken);
                        (here & g).CopyTo(dx.Slice(top + c + ch));
                        taken |= here;
                        here = Vector256.AndNot(Vector256.Equals(Vector256.Create(image.Slice(bottom + ch, 8)), max), taken);
                        (here & g).CopyTo(dx.Slice(bottom + ch));
                        taken |= here;
                        (Vector256.AndNot(g, taken)).CopyTo(dx.Slice(bottom + c + ch));
                    }
                    for (; ch < c; ch++)
                    {
                        var max = pooled[o + ch];
                        var at = image[top + ch] == max ? top + ch
                            : image[top + c + ch] == max ? top + c + ch
                            : image[bottom + ch] == max ? bottom + ch
                            : bottom + c + ch;
                        dx[at] += dy[o + ch];
                    }
                }
        }
    }
}
