using System.Buffers;
using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// 2-D convolution, stride s, zero padding kernel/2 (so "same" at stride 1, and ⌈H/s⌉ × ⌈W/s⌉ outputs for the 1 × 1 and
/// 3 × 3 kernels at any stride), NHWC, with W stored <c>k·k·C × filters</c> (rows ordered ky, kx, c) so that the
/// output is NHWC without a transpose: Y = P·W + b, where row i of the patch matrix P is output pixel i's receptive
/// field. P is never built: <see cref="DirectConv"/> reads it in place from a zero-padded copy of the input, for the
/// forward pass and for ∂W += Pᵀ·∂Y; at stride 1, ∂X is the convolution of ∂Y with the flipped kernel, the same kernel
/// again; at stride &gt; 1, ∂X = col2im(∂Y·Wᵀ) through <see cref="Sgemm"/>. A 1 × 1 kernel at stride 1 (a pointwise
/// convolution) is a plain GEMM on X. Without a bias (<c>bias: false</c>, for a convolution that batch normalisation
/// follows, whose β takes its place) the parameters are W alone.
/// </summary>
public sealed class Conv2dLayer : ILayer
{
    private const int PatchBudget = 1 << 20;  // floats of the strided ∂X's patch-gradient chunk (4 MiB)
    private const int PaddedBudget = 1 << 18; // floats of a padded input chunk (1 MiB)
    private readonly int _height, _width, _channels, _filters, _kernel, _pad, _stride;
    private readonly bool _bias;

    public Conv2dLayer(int height, int width, int channels, int filters, int kernel, int stride = 1, bool bias = true)
    {
        if (stride < 1) throw new ArgumentException($"stride {stride} must be ≥ 1");
        if (height < 1 || width < 1 || channels < 1 || filters < 1) throw new ArgumentException($"conv layer shape {height}×{width}×{channels} → {filters} filters must be positive");
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentException($"kernel size {kernel} must be odd and ≥ 1 (3 or 5)");
        (_height, _width, _channels, _filters, _kernel, _pad, _stride, _bias) = (height, width, channels, filters, kernel, kernel / 2, stride, bias);
    }

    /// <summary>Vector512 register tiles (the default where AVX-512 is accelerated) or Vector256 ones; tests set both.</summary>
    internal bool WideKernels { get; init; } = DirectConv.Wide;

    public int Height => _height;
    public int Width => _width;
    public int Channels => _channels;
    public int Filters => _filters;
    public int Kernel => _kernel;
    public int Stride => _stride;
    public bool HasBias => _bias;
    public int OutputHeight => (_height + 2 * _pad - _kernel) / _stride + 1;
    public int OutputWidth => (_width + 2 * _pad - _kernel) / _stride + 1;
    public int InputSize => _height * _width * _channels;
    public int OutputSize => OutputHeight * OutputWidth * _filters;
    private int OutputPixels => OutputHeight * OutputWidth;
    private bool Pointwise => _kernel == 1 && _stride == 1;
    private int PatchLength => _kernel * _kernel * _channels;
    public int ParameterCount => checked((PatchLength + (_bias ? 1 : 0)) * _filters);

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        Init.Random(parameters[..(PatchLength * _filters)], PatchLength, _filters, _bias ? WeightInit.He : WeightInit.Uniform, random);
        parameters[(PatchLength * _filters)..ParameterCount].Clear();
    }

    public void RegularizationMask(Span<float> mask)
    {
        mask[..(PatchLength * _filters)].Fill(1f);
        mask[(PatchLength * _filters)..ParameterCount].Clear();
    }

    // Samples per chunk of the strided input gradient's patch-gradient matrix (dY·Wᵀ before col2im): about 4 MiB.
    private int PatchChunk(int batch) => Math.Clamp(PatchBudget / (OutputPixels * PatchLength), 1, batch);

    // Samples per chunk of the direct kernel: a chunk's zero-padded input (of `channels`) is about 1 MiB, so it stays in L2.
    private int PaddedChunk(int channels, int batch) => Math.Clamp(PaddedBudget / PaddedSize(channels), 1, batch);
    private int PaddedSize(int channels) => (_height + 2 * _pad) * (_width + 2 * _pad) * channels;

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        var bias = _bias ? parameters.Slice(k * _filters, _filters) : [];
        if (Pointwise)
            Sgemm.Multiply(false, false, batch * OutputPixels, _filters, k, input, k, weights, _filters, output, _filters, accumulate: false);
        else
        {
            var packed = ArrayPool<float>.Shared.Rent(DirectConv.Strips(_filters) * k * DirectConv.Nr);
            try
            {
                DirectConv.PackStrips(weights, k, _filters, packed);
                Convolve(input, _channels, _stride, OutputHeight, OutputWidth, packed, _filters, output, batch);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(packed);
            }
        }
        if (_bias) Init.AddRowBias(output, batch * OutputPixels, bias);
    }

    // Y = conv(X, W) on zero-padded chunks of `source` (inChannels each) with the packed weights, outChannels out:
    // the forward pass, and at stride 1 the input gradient (∂Y in, the flipped kernel, C out).
    private void Convolve(ReadOnlySpan<float> source, int inChannels, int stride, int outHeight, int outWidth, ReadOnlySpan<float> packed,
        int outChannels, Span<float> destination, int batch)
    {
        var (inSize, outPixels) = (_height * _width * inChannels, outHeight * outWidth);
        var chunk = PaddedChunk(inChannels, batch);
        var padded = ArrayPool<float>.Shared.Rent(chunk * PaddedSize(inChannels) + DirectConv.Slack);
        var offsets = ArrayPool<int>.Shared.Rent(chunk * outPixels);
        try
        {
            DirectConv.PixelOffsets(chunk, _height + 2 * _pad, _width + 2 * _pad, inChannels, outHeight, outWidth, stride, offsets);
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var x = padded.AsSpan(0, count * PaddedSize(inChannels) + DirectConv.Slack);
                DirectConv.Pad(source.Slice(s * inSize, count * inSize), count, _height, _width, inChannels, _pad, x);
                DirectConv.Forward(x, offsets.AsSpan(0, count * outPixels), _kernel, _kernel * inChannels, (_width + 2 * _pad) * inChannels,
                    packed, outChannels, destination.Slice(s * outPixels * outChannels, count * outPixels * outChannels), WideKernels);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        if (_bias) Init.AddColumnSums(outputGradient, batch * OutputPixels, _filters, parameterGradient.Slice(k * _filters, _filters));
        if (Pointwise)
        {
            // ∂W += Xᵀ·∂Y, ∂X = ∂Y·Wᵀ: X is the patch matrix.
            Sgemm.Multiply(true, false, k, _filters, batch * OutputPixels, input, k, outputGradient, _filters, parameterGradient, _filters, accumulate: true);
            if (!inputGradient.IsEmpty)
                Sgemm.Multiply(false, true, batch * OutputPixels, k, _filters, outputGradient, _filters, weights, _filters, inputGradient, k, accumulate: false);
            return;
        }
        WeightGradient(input, outputGradient, parameterGradient[..(k * _filters)], batch);
        if (inputGradient.IsEmpty) return;
        if (_stride == 1) InputGradientDirect(weights, outputGradient, inputGradient, batch);
        else InputGradientStrided(weights, outputGradient, inputGradient, batch);
    }

    // o_i of DirectConv for the output pixels of `samples` padded inputs.
    private void InputOffsets(int samples, Span<int> offsets) =>
        DirectConv.PixelOffsets(samples, _height + 2 * _pad, _width + 2 * _pad, _channels, OutputHeight, OutputWidth, _stride, offsets);

    // ∂W[ky·kC + q, f] += Σ_i X̃[o_i + ky·rowStride + q]·∂Y[i, f], summed chunk after chunk into one accumulator.
    private void WeightGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, int batch)
    {
        var kc = _kernel * _channels;
        var strips = DirectConv.Strips(_filters);
        var chunk = PaddedChunk(_channels, batch);
        var accumulatorSize = strips * _kernel * DirectConv.RoundRows(kc) * DirectConv.Nr;
        var padded = ArrayPool<float>.Shared.Rent(chunk * PaddedSize(_channels) + DirectConv.Slack);
        var offsets = ArrayPool<int>.Shared.Rent(chunk * OutputPixels);
        var accumulator = ArrayPool<float>.Shared.Rent(accumulatorSize);
        var block = ArrayPool<float>.Shared.Rent(DirectConv.BlockSize(_filters));
        try
        {
            accumulator.AsSpan(0, accumulatorSize).Clear();
            InputOffsets(chunk, offsets);
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * OutputPixels;
                var x = padded.AsSpan(0, count * PaddedSize(_channels) + DirectConv.Slack);
                DirectConv.Pad(input.Slice(s * InputSize, count * InputSize), count, _height, _width, _channels, _pad, x);
                DirectConv.WeightGradient(x, offsets.AsSpan(0, pixels), _kernel, kc, (_width + 2 * _pad) * _channels,
                    outputGradient.Slice(s * OutputSize, count * OutputSize), _filters, accumulator.AsSpan(0, accumulatorSize), block, WideKernels);
            }
            DirectConv.AddAccumulated(accumulator, _kernel, kc, _filters, weightGradient);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<float>.Shared.Return(accumulator);
            ArrayPool<float>.Shared.Return(block);
        }
    }

    // Stride 1: ∂X is the same-padded convolution of ∂Y with the flipped, transposed kernel (F channels in, C out).
    private void InputGradientDirect(ReadOnlySpan<float> weights, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        var flipped = ArrayPool<float>.Shared.Rent(DirectConv.Strips(_channels) * PatchLength / _channels * _filters * DirectConv.Nr);
        try
        {
            DirectConv.FlipTranspose(weights, _kernel, _channels, _filters, flipped);
            Convolve(outputGradient, _filters, 1, _height, _width, flipped, _channels, inputGradient, batch);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flipped);
        }
    }

    // Stride > 1: ∂P = ∂Y·Wᵀ, scattered back by col2im.
    private void InputGradientStrided(ReadOnlySpan<float> weights, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        var k = PatchLength;
        var chunk = PatchChunk(batch);
        var patchGradient = ArrayPool<float>.Shared.Rent(chunk * OutputPixels * k);
        try
        {
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * OutputPixels;
                Sgemm.Multiply(false, true, pixels, k, _filters, outputGradient.Slice(s * OutputSize, count * OutputSize), _filters, weights, _filters,
                    patchGradient, k, accumulate: false);
                Col2Im(patchGradient, count, inputGradient.Slice(s * InputSize, count * InputSize));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(patchGradient);
        }
    }

    // The adjoint of im2col (P[(b, y, x), (ky, kx, c)] = X[b, s·y + ky − pad, s·x + kx − pad, c]): ∂X[b, iy, ix, c] = Σ
    // over the patches that read it.
    private void Col2Im(ReadOnlySpan<float> patchGradient, int samples, Span<float> inputGradient)
    {
        var (h, w, c, kk, pad, st, oh, ow) = (_height, _width, _channels, _kernel, _pad, _stride, OutputHeight, OutputWidth);
        var k = PatchLength;
        inputGradient.Clear();
        var row = 0;
        for (var b = 0; b < samples; b++)
        {
            var image = inputGradient.Slice(b * InputSize, InputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++, row++)
                {
                    var patch = patchGradient.Slice(row * k, k);
                    for (var ky = 0; ky < kk; ky++)
                    {
                        var iy = st * y + ky - pad;
                        if ((uint)iy >= (uint)h) continue;
                        var x0 = st * x - pad;
                        var first = Math.Max(0, -x0);
                        var last = Math.Min(kk, w - x0);
                        if (last <= first) continue;
                        var target = image.Slice((iy * w + x0 + first) * c, (last - first) * c);
                        TensorPrimitives.Add(target, patch.Slice((ky * kk + first) * c, (last - first) * c), target);
                    }
                }
        }
    }
}
