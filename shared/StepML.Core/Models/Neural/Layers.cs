using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// One layer of a feed-forward network over a slice of the model's flat parameter vector. Activations are
/// batch-major: row b of a <c>batch × size</c> matrix is sample b; images are NHWC (channels last).
/// </summary>
public interface ILayer
{
    /// <summary>Values per sample going in.</summary>
    int InputSize { get; }

    /// <summary>Values per sample coming out.</summary>
    int OutputSize { get; }

    int ParameterCount { get; }

    void Initialize(Span<float> parameters, Xoshiro256 random);

    /// <summary>1 for weights under the L2 penalty, 0 for biases.</summary>
    void RegularizationMask(Span<float> mask);

    void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch);

    /// <summary>Given ∂L/∂output, <i>adds</i> ∂L/∂parameters to <paramref name="parameterGradient"/> and overwrites
    /// <paramref name="inputGradient"/> with ∂L/∂input (skipped when it is empty: the first layer).</summary>
    void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch);
}

public enum WeightInit
{
    /// <summary>N(0, 2/fanIn): He et al. 2015, for layers followed by ReLU.</summary>
    He,
    /// <summary>N(0, 2/(fanIn + fanOut)): Glorot and Bengio 2010, for the output layer.</summary>
    Xavier,
}

internal static class Init
{
    public static void Gaussian(Span<float> weights, int fanIn, int fanOut, WeightInit kind, Xoshiro256 random)
    {
        var sd = kind == WeightInit.He ? Math.Sqrt(2.0 / fanIn) : Math.Sqrt(2.0 / (fanIn + fanOut));
        for (var i = 0; i < weights.Length; i++) weights[i] = (float)(sd * random.NextGaussian());
    }

    /// <summary>Adds the column sums of a rows×columns matrix to <paramref name="sums"/>.</summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(sums, matrix.Slice(r * columns, columns), sums);
    }

    public static void AddRowBias(Span<float> matrix, int rows, ReadOnlySpan<float> bias)
    {
        var columns = bias.Length;
        for (var r = 0; r < rows; r++)
        {
            var row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}

/// <summary>Fully connected layer y = x·W + b with W stored input-major (<c>inputs × outputs</c>) then b.</summary>
public sealed class DenseLayer(int inputs, int outputs, WeightInit init) : ILayer
{
    public int InputSize { get; } = inputs > 0 ? inputs : throw new ArgumentOutOfRangeException(nameof(inputs));
    public int OutputSize { get; } = outputs > 0 ? outputs : throw new ArgumentOutOfRangeException(nameof(outputs));
    public int ParameterCount => (InputSize + 1) * OutputSize;

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        Init.Gaussian(parameters[..(InputSize * OutputSize)], InputSize, OutputSize, init, random);
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

/// <summary>
/// 2-D convolution, stride 1, zero "same" padding (kernel/2), NHWC, as im2col + <see cref="Sgemm"/>: each output pixel's
/// receptive field becomes a row of the patch matrix P (<c>pixels × k·k·C</c>, ordered ky, kx, c), and Y = P·W + b
/// with W stored <c>k·k·C × filters</c>, so the output is NHWC without a transpose. Backward: ∂W += Pᵀ·∂Y,
/// ∂P = ∂Y·Wᵀ scattered back by col2im.
/// </summary>
public sealed class Conv2dLayer : ILayer
{
    // Samples per im2col chunk: bounds the patch matrix to about 4 MiB.
    private const int PatchBudget = 1 << 20;
    private readonly int _height, _width, _channels, _filters, _kernel, _pad;

    public Conv2dLayer(int height, int width, int channels, int filters, int kernel)
    {
        if (height < 1 || width < 1 || channels < 1 || filters < 1) throw new ArgumentException($"conv layer shape {height}×{width}×{channels} → {filters} filters must be positive");
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentException($"kernel size {kernel} must be odd and ≥ 1 (3 or 5)");
        (_height, _width, _channels, _filters, _kernel, _pad) = (height, width, channels, filters, kernel, kernel / 2);
    }

    public int Height => _height;
    public int Width => _width;
    public int Channels => _channels;
    public int Filters => _filters;
    public int Kernel => _kernel;
    public int InputSize => _height * _width * _channels;
    public int OutputSize => _height * _width * _filters;
    private int PatchLength => _kernel * _kernel * _channels;
    public int ParameterCount => (PatchLength + 1) * _filters;

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        Init.Gaussian(parameters[..(PatchLength * _filters)], PatchLength, _filters, WeightInit.He, random);
        parameters[(PatchLength * _filters)..].Clear();
    }

    public void RegularizationMask(Span<float> mask)
    {
        mask[..(PatchLength * _filters)].Fill(1f);
        mask[(PatchLength * _filters)..].Clear();
    }

    private int ChunkSamples(int batch) => Math.Clamp(PatchBudget / (_height * _width * PatchLength), 1, batch);

    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        var bias = parameters.Slice(k * _filters, _filters);
        var chunk = ChunkSamples(batch);
        var patches = ArrayPool<float>.Shared.Rent(chunk * _height * _width * k);
        try
        {
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * _height * _width;
                Im2Col(input.Slice(s * InputSize, count * InputSize), count, patches);
                var y = output.Slice(s * OutputSize, count * OutputSize);
                Sgemm.Multiply(false, false, pixels, _filters, k, patches, k, weights, _filters, y, _filters, accumulate: false);
                Init.AddRowBias(y, pixels, bias);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(patches);
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var k = PatchLength;
        var weights = parameters[..(k * _filters)];
        var chunk = ChunkSamples(batch);
        var patches = ArrayPool<float>.Shared.Rent(chunk * _height * _width * k);
        var patchGradient = inputGradient.IsEmpty ? [] : ArrayPool<float>.Shared.Rent(chunk * _height * _width * k);
        try
        {
            for (var s = 0; s < batch; s += chunk)
            {
                var count = Math.Min(chunk, batch - s);
                var pixels = count * _height * _width;
                var dy = outputGradient.Slice(s * OutputSize, count * OutputSize);
                Im2Col(input.Slice(s * InputSize, count * InputSize), count, patches);
                Sgemm.Multiply(true, false, k, _filters, pixels, patches, k, dy, _filters, parameterGradient, _filters, accumulate: true);
                Init.AddColumnSums(dy, pixels, _filters, parameterGradient.Slice(k * _filters, _filters));
                if (inputGradient.IsEmpty) continue;
                Sgemm.Multiply(false, true, pixels, k, _filters, dy, _filters, weights, _filters, patchGradient, k, accumulate: false);
                Col2Im(patchGradient, count, inputGradient.Slice(s * InputSize, count * InputSize));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(patches);
            if (patchGradient.Length > 0) ArrayPool<float>.Shared.Return(patchGradient);
        }
    }

    // P[(b, y, x), (ky, kx, c)] = X[b, y + ky − pad, x + kx − pad, c], 0 outside the image.
    private void Im2Col(ReadOnlySpan<float> input, int samples, Span<float> patches)
    {
        var (h, w, c, kk, pad) = (_height, _width, _channels, _kernel, _pad);
        var k = PatchLength;
        var row = 0;
        for (var b = 0; b < samples; b++)
        {
            var image = input.Slice(b * InputSize, InputSize);
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++, row++)
                {
                    var patch = patches.Slice(row * k, k);
                    var o = 0;
                    for (var ky = 0; ky < kk; ky++)
                    {
                        var iy = y + ky - pad;
                        var x0 = x - pad;
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
        var (h, w, c, kk, pad) = (_height, _width, _channels, _kernel, _pad);
        var k = PatchLength;
        inputGradient.Clear();
        var row = 0;
        for (var b = 0; b < samples; b++)
        {
            var image = inputGradient.Slice(b * InputSize, InputSize);
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++, row++)
                {
                    var patch = patchGradient.Slice(row * k, k);
                    for (var ky = 0; ky < kk; ky++)
                    {
                        var iy = y + ky - pad;
                        if ((uint)iy >= (uint)h) continue;
                        var x0 = x - pad;
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
