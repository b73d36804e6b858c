using System.Buffers;
using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// 2-D convolution, stride s, zero padding kernel/2 (so "same" at stride 1, and ⌈H/s⌉ × ⌈W/s⌉ outputs for the 1 × 1 and
/// 3 × 3 kernels at any stride), NHWC, as im2col + <see cref="Sgemm"/>: each output pixel's
/// receptive field becomes a row of the patch matrix P (<c>pixels × k·k·C</c>, ordered ky, kx, c), and Y = P·W + b
/// with W stored <c>k·k·C × filters</c>, so the output is NHWC without a transpose. Backward: ∂W += Pᵀ·∂Y,
/// ∂P = ∂Y·Wᵀ scattered back by col2im. A 1 × 1 kernel at stride 1 (a pointwise convolution) skips im2col: P is X.
/// Without a bias (<c>bias: false</c>, for a convolution that batch normalisation follows, whose β takes its place)
/// the parameters are W alone.
/// </summary>
public sealed class Conv2dLayer : ILayer
{
    // Samples per im2col chunk: bounds the patch matrix to about 4 MiB.
    private const int PatchBudget = 1 << 20;
    private readonly int _height, _width, _channels, _filters, _kernel, _pad, _stride;
    private readonly bool _bias;

    public Conv2dLayer(int height, int width, int channels, int filters, int kernel, int stride = 1, bool bias = true)
    {
        if (stride < 1) throw new ArgumentException($"stride {stride} must be ≥ 1");
        if (height < 1 || width < 1 || channels < 1 || filters < 1) throw new ArgumentException($"conv layer shape {height}×{width}×{channels} → {filters} filters must be positive");
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentException($"kernel size {kernel} must be odd and ≥ 1 (3 or 5)");
        (_height, _width, _channels, _filters, _kernel, _pad, _stride, _bias) = (height, width, channels, filters, kernel, kernel / 2, stride, bias);
    }

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
    private bool Direct => _kernel == 1 && _stride == 1;
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

    private int ChunkSamples(int batch) => Direct ? batch : Math.Clamp(PatchBudget / (OutputPixels * PatchLength), 1, batch);

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        var bias = _bias ? parameters.Slice(k * _filters, _filters) : [];
        var chunk = ChunkSamples(batch);
        var patches = Direct ? [] : ArrayPool<float>.Shared.Rent(chunk * OutputPixels * k);
        try
        {
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * OutputPixels;
                var x = input.Slice(s * InputSize, count * InputSize);
                ReadOnlySpan<float> p = Direct ? x : patches;
                if (!Direct) Im2Col(x, count, patches);
                var y = output.Slice(s * OutputSize, count * OutputSize);
                Sgemm.Multiply(false, false, pixels, _filters, k, p, k, weights, _filters, y, _filters, accumulate: false);
                if (_bias) Init.AddRowBias(y, pixels, bias);
            }
        }
        finally
        {
            if (patches.Length > 0) ArrayPool<float>.Shared.Return(patches);
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        var chunk = ChunkSamples(batch);
        var patches = Direct ? [] : ArrayPool<float>.Shared.Rent(chunk * OutputPixels * k);
        var patchGradient = inputGradient.IsEmpty || Direct ? [] : ArrayPool<float>.Shared.Rent(chunk * OutputPixels * k);
        try
        {
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * OutputPixels;
                var dy = outputGradient.Slice(s * OutputSize, count * OutputSize);
                var x = input.Slice(s * InputSize, count * InputSize);
                ReadOnlySpan<float> p = Direct ? x : patches;
                if (!Direct) Im2Col(x, count, patches);
                Sgemm.Multiply(true, false, k, _filters, pixels, p, k, dy, _filters, parameterGradient, _filters, accumulate: true);
                if (_bias) Init.AddColumnSums(dy, pixels, _filters, parameterGradient.Slice(k * _filters, _filters));
                if (inputGradient.IsEmpty) continue;
                var dx = inputGradient.Slice(s * InputSize, count * InputSize);
                if (Direct)
                {
                    Sgemm.Multiply(false, true, pixels, k, _filters, dy, _filters, weights, _filters, dx, k, accumulate: false);
                    continue;
                }
                Sgemm.Multiply(false, true, pixels, k, _filters, dy, _filters, weights, _filters, patchGradient, k, accumulate: false);
                Col2Im(patchGradient, count, dx);
            }
        }
        finally
        {
            if (patches.Length > 0) ArrayPool<float>.Shared.Return(patches);
            if (patchGradient.Length > 0) ArrayPool<float>.Shared.Return(patchGradient);
        }
    }

    // P[(b, y, x), (ky, kx, c)] = X[b, s·y + ky − pad, s·x + kx − pad, c], 0 outside the image.
    private void Im2Col(ReadOnlySpan<float> input, int samples, Span<float> patches)
    {
        var (h, w, c, kk, pad, st, oh, ow) = (_height, _width, _channels, _kernel, _pad, _stride, OutputHeight, OutputWidth);
        var k = PatchLength;
        var row = 0;
        for (var b = 0; b < samples; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            for (var y = 0; y < oh; y++)
                for (var x = 0; x < ow; x++, row++)
                {
                    var patch = patches.Slice(row * k, k);
                    var o = 0;
                    for (var ky = 0; ky < kk; ky++)
                    {
                        var iy = st * y + ky - pad;
                        var x0 = st * x - pad;
                        if ((uint)iy >= (uint)h)
                        {
                            patch.Slice(o, kk * c).Clear();
                            o += kk * c;
                            continue;
                        }
                        // The run of kx inside the image is contiguous in NHWC: copy it in one go.
                        var first = Math.Max(0, -x0);
                        var last = Math.Min(kk, w - x0);
                        if (first > 0) patch.Slice(o, first * c).Clear();
                        if (last > first) image.Slice((iy * w + x0 + first) * c, (last - first) * c).CopyTo(patch.Slice(o + first * c));
                        if (last < kk) patch.Slice(o + Math.Max(last, first) * c, (kk - Math.Max(last, first)) * c).Clear();
                        o += kk * c;
                    }
                }
        }
    }

    // The adjoint of Im2Col: ∂X[b, iy, ix, c] = Σ over the patches that read it.
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
