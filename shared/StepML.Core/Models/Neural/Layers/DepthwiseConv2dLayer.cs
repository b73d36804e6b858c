using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// Depthwise 2-D convolution (MobileNet, Howard et al. 2017 §3.1): one k × k filter per channel,
/// Y[b, y, x, c] = b_c + Σ_{ky,kx} W[ky, kx, c]·X[b, s·y + ky − pad, s·x + kx − pad, c] with pad = k/2 and zeros outside.
/// NHWC makes each tap a run of C contiguous values, so the kernel is a fused multiply-add over the channels
/// (<see cref="TensorPrimitives.FusedMultiplyAdd(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>);
/// there is no GEMM to gain since each output reads only k² values per channel. Backward: ∂W[ky, kx, c] += X·∂Y,
/// ∂b += Σ∂Y, ∂X[…] += W[ky, kx, c]·∂Y. Without a bias (batch norm follows) b is 0 and not a parameter.
/// </summary>
public sealed class DepthwiseConv2dLayer : ILayer
{
    private readonly int _height, _width, _channels, _kernel, _pad, _stride;
    private readonly bool _bias;

    public DepthwiseConv2dLayer(int height, int width, int channels, int kernel, int stride = 1, bool bias = true)
    {
        if (height < 1 || width < 1 || channels < 1) throw new ArgumentException($"depthwise layer shape {height}×{width}×{channels} must be positive");
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentException($"kernel size {kernel} must be odd and ≥ 1");
        if (stride < 1) throw new ArgumentException($"stride {stride} must be ≥ 1");
        (_height, _width, _channels, _kernel, _pad, _stride, _bias) = (height, width, channels, kernel, kernel / 2, stride, bias);
    }

    public int Kernel => _kernel;
    public int Channels => _channels;
    public bool HasBias => _bias;
    public int OutputHeight => (_height + 2 * _pad - _kernel) / _stride + 1;
    public int OutputWidth => (_width + 2 * _pad - _kernel) / _stride + 1;
    public int InputSize => _height * _width * _channels;
    public int OutputSize => OutputHeight * OutputWidth * _channels;
    private int WeightCount => _kernel * _kernel * _channels;
    public int ParameterCount => WeightCount + (_bias ? _channels : 0);

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        Init.Random(parameters[..WeightCount], _kernel * _kernel, _kernel * _kernel, _bias ? WeightInit.He : WeightInit.Uniform, random);
        parameters[WeightCount..ParameterCount].Clear();
    }

    public void RegularizationMask(Span<float> mask)
    {
        mask[..WeightCount].Fill(1f);
        mask[WeightCount..ParameterCount].Clear();
    }

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var (h, w, c, k, pad, st, oh, ow) = (_height, _width, _channels, _kernel, _pad, _stride, OutputHeight, OutputWidth);
        var bias = _bias ? parameters.Slice(WeightCount, c) : [];
        for (var b = 0; b < batch; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            var result = output.Slice(b * OutputSize, OutputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                {
                    var o = result.Slice((y * ow + x) * c, c);
                    if (_bias) bias.CopyTo(o);
                    else o.Clear();
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = st * y + ky - pad;
                        if ((uint)iy >= (uint)h) continue;
                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = st * x + kx - pad;
                            if ((uint)ix >= (uint)w) continue;
                            TensorPrimitives.FusedMultiplyAdd(image.Slice((iy * w + ix) * c, c), parameters.Slice((ky * k + kx) * c, c), o, o);
                        }
                    }
                }
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var (h, w, c, k, pad, st, oh, ow) = (_height, _width, _channels, _kernel, _pad, _stride, OutputHeight, OutputWidth);
        var biasGradient = _bias ? parameterGradient.Slice(WeightCount, c) : [];
        var withInput = !inputGradient.IsEmpty;
        if (withInput) inputGradient[..(batch * InputSize)].Clear();
        for (var b = 0; b < batch; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            var dImage = withInput ? inputGradient.Slice(b * InputSize, InputSize) : [];
            var dy = outputGradient.Slice(b * OutputSize, OutputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++)
                {
                    var g = dy.Slice((y * ow + x) * c, c);
                    if (_bias) TensorPrimitives.Add(biasGradient, g, biasGradient);
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = st * y + ky - pad;
                        if ((uint)iy >= (uint)h) continue;
                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = st * x + kx - pad;
                            if ((uint)ix >= (uint)w) continue;
                            var at = (iy * w + ix) * c;
                            var tap = (ky * k + kx) * c;
                            var dw = parameterGradient.Slice(tap, c);
                            TensorPrimitives.FusedMultiplyAdd(image.Slice(at, c), g, dw, dw);
                            if (!withInput) continue;
                            var dx = dImage.Slice(at, c);
                            TensorPrimitives.FusedMultiplyAdd(parameters.Slice(tap, c), g, dx, dx);
                        }
                    }
                }
        }
    }
}
