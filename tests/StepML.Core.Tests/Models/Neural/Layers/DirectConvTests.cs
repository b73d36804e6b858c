using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

/// <summary>
/// <see cref="DirectConv"/> through <see cref="Conv2dLayer"/>, against scalar oracles in double: forward, ∂W and ∂X on
/// shapes that reach every edge of the kernels: pixel counts that are not a multiple of the 6-pixel tile (and fewer
/// pixels than one tile), filter counts that are not a multiple of the 16-column strip (1, 8, 17, 20, 33), a 1×1
/// image under a 3×3 kernel, strides 2, batch 1, more pixels than one 256-pixel ∂W block, several samples chunks
/// (a padded input over the 1 MiB budget), and C = 1 (the stem).
/// </summary>
public class DirectConvTests
{
    private static readonly (int H, int W, int C, int F, int K, int Stride, int Batch)[] Cases =
    [
        (28, 28, 16, 16, 3, 1, 2),  // ResNet's first stage: full tiles, 1,568 pixels in 7 ∂W blocks
        (28, 28, 64, 8, 3, 1, 5),   // padded input 57,600 floats: chunks of 4 samples, so 2 chunks
        (7, 7, 64, 64, 3, 1, 3),    // 4 strips, 147 pixels (tile tails of 3 and 3)
        (5, 7, 3, 20, 3, 2, 1),     // stride 2, batch 1, a strip of 4
        (6, 5, 1, 17, 5, 1, 3),     // C = 1, 5×5, kC = 5 (rows of ∂W padded to 12)
        (9, 4, 5, 33, 1, 2, 2),     // strided pointwise, 3 strips
        (3, 3, 2, 3, 3, 1, 1),      // 9 pixels: one tile and a tail
        (1, 1, 4, 1, 3, 1, 2),      // one pixel per image, one filter
    ];

    /// <summary>Every case with the Vector512 tiles and with the Vector256 ones (emulated where the CPU lacks them).</summary>
    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, bool>();
        foreach (var wide in new[] { true, false })
            foreach (var (h, w, c, f, k, stride, batch) in Cases) data.Add(h, w, c, f, k, stride, batch, wide);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_MatchesScalarConvolution(int h, int w, int c, int f, int k, int stride, int batch, bool wide)
    {
        var (layer, parameters, input, _) = Setup(h, w, c, f, k, stride, batch, wide);
        var output = new float[batch * layer.OutputSize];
        layer.Forward(parameters, input, output, batch);
        var expected = new double[output.Length];
        var scale = new double[output.Length];
        Visit(layer, batch, (b, y, x, iy, ix, tap) =>
        {
            for (var o = 0; o < f; o++)
            {
                var at = ((b * layer.OutputHeight + y) * layer.OutputWidth + x) * f + o;
                for (var ch = 0; ch < c; ch++)
                {
                    var product = (double)input[((b * h + iy) * w + ix) * c + ch] * parameters[(tap * c + ch) * f + o];
                    expected[at] += product;
                    scale[at] += Math.Abs(product);
                }
            }
        });
        for (var i = 0; i < output.Length; i++) expected[i] += parameters[k * k * c * f + i % f];
        AssertClose(expected, scale, output, "y");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_MatchesScalarGradients(int h, int w, int c, int f, int k, int stride, int batch, bool wide)
    {
        var (layer, parameters, input, outputGradient) = Setup(h, w, c, f, k, stride, batch, wide);
        var parameterGradient = new float[layer.ParameterCount];
        parameterGradient.AsSpan().Fill(0.5f); // Backward adds to it
        var inputGradient = new float[input.Length];
        inputGradient.AsSpan().Fill(float.NaN); // and overwrites this
        layer.Backward(parameters, input, new float[outputGradient.Length], outputGradient, inputGradient, parameterGradient, batch);

        var (dw, dwScale) = (new double[layer.ParameterCount], new double[layer.ParameterCount]);
        var (dx, dxScale) = (new double[input.Length], new double[input.Length]);
        Visit(layer, batch, (b, y, x, iy, ix, tap) =>
        {
            var pixel = ((b * layer.OutputHeight + y) * layer.OutputWidth + x) * f;
            for (var ch = 0; ch < c; ch++)
                for (var o = 0; o < f; o++)
                {
                    var (xi, wi) = (((b * h + iy) * w + ix) * c + ch, (tap * c + ch) * f + o);
                    var gradient = (double)outputGradient[pixel + o];
                    dw[wi] += gradient * input[xi];
                    dwScale[wi] += Math.Abs(gradient * input[xi]);
                    dx[xi] += gradient * parameters[wi];
                    dxScale[xi] += Math.Abs(gradient * parameters[wi]);
                }
        });
        for (var i = 0; i < outputGradient.Length; i++)
        {
            dw[k * k * c * f + i % f] += outputGradient[i];
            dwScale[k * k * c * f + i % f] += Math.Abs(outputGradient[i]);
        }
        for (var i = 0; i < dw.Length; i++) dw[i] += 0.5;
        AssertClose(dw, dwScale, parameterGradient, "∂W");
        AssertClose(dx, dxScale, inputGradient, "∂X");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_RunTwice_IsBitIdentical(bool wide)
    {
        var (layer, parameters, input, outputGradient) = Setup(14, 14, 32, 32, 3, 1, 3, wide);
        float[] Run(out float[] dx)
        {
            var dw = new float[layer.ParameterCount];
            dx = new float[input.Length];
            layer.Backward(parameters, input, new float[outputGradient.Length], outputGradient, dx, dw, 3);
            return dw;
        }
        Assert.Equal(Run(out var first), Run(out var second));
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_PaddedInputTooShort_Throws(bool wide)
    {
        // A 4×4×2 padded image, 2×3 outputs: the last offset is (1·4 + 2)·2 = 12, its window ends at 12 + 2·8 + 6 = 34.
        var offsets = new int[6];
        DirectConv.PixelOffsets(1, 4, 4, 2, 2, 3, 1, offsets);
        DirectConv.Forward(new float[34], offsets, 3, 6, 8, new float[3 * 6 * 16], 1, new float[6], wide);
        var ex = Assert.Throws<ArgumentException>(() =>
            DirectConv.Forward(new float[33], offsets, 3, 6, 8, new float[3 * 6 * 16], 1, new float[6], wide));
        Assert.Contains("reaches past", ex.Message);
    }

    private static (Conv2dLayer Layer, float[] Parameters, float[] Input, float[] OutputGradient) Setup(int h, int w, int c, int f, int k, int stride, int batch, bool wide)
    {
        var rng = new Xoshiro256((ulong)(h * 1000 + c * 10 + f));
        var layer = new Conv2dLayer(h, w, c, f, k, stride) { WideKernels = wide };
        return (layer, LayerGradientTests.Random(layer.ParameterCount, rng), LayerGradientTests.Random(batch * layer.InputSize, rng),
            LayerGradientTests.Random(batch * layer.OutputSize, rng));
    }

    // Every (sample, output pixel, kernel tap) whose input pixel lies inside the image.
    private static void Visit(Conv2dLayer layer, int batch, Action<int, int, int, int, int, int> tap)
    {
        var (k, pad, s) = (layer.Kernel, layer.Kernel / 2, layer.Stride);
        for (var b = 0; b < batch; b++)
            for (var y = 0; y < layer.OutputHeight; y++)
                for (var x = 0; x < layer.OutputWidth; x++)
                    for (var ky = 0; ky < k; ky++)
                        for (var kx = 0; kx < k; kx++)
                        {
                            int iy = s * y + ky - pad, ix = s * x + kx - pad;
                            if (iy >= 0 && iy < layer.Height && ix >= 0 && ix < layer.Width) tap(b, y, x, iy, ix, ky * k + kx);
                        }
    }

    // Float sums of n products are within about n·ε of Σ|products|; the kernels' orders differ from the oracle's.
    private static void AssertClose(double[] expected, double[] scale, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * scale[i] + 1e-6, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
