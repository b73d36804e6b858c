using System.Buffers;
using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// Batch normalisation (Ioffe and Szegedy, ICML 2015) over the channels of an NHWC activation: per channel c,
/// x̂ = (x − μ_c)/√(σ²_c + ε) and y = γ_c·x̂ + β_c. Training uses the batch's μ and σ² (biased, over samples and pixels);
/// inference uses the running moments. Parameters: γ, β (trained), then the running E[x] and E[x²] (state, see
/// <see cref="ILayer.StateMask"/>). The state keeps raw moments, not the variance, because the workers' states are
/// merged by a sample-weighted average: the average of the workers' E[x] and E[x²] is exactly the moment of the union
/// of their batches, whereas averaging variances would drop the spread of the workers' means. Each training step
/// moves the state by s ← (1 − α)·s + α·(batch moment), α = 0.1 (PyTorch's default momentum); the variance is
/// E[x²] − E[x]², clamped at 0. Backward: with N values per channel, ∂β = Σ∂y, ∂γ = Σ∂y·x̂ and
/// ∂x = γ/√(σ² + ε)·(∂y − ∂β/N − x̂·∂γ/N).
/// </summary>
public sealed class BatchNormLayer : ILayer
{
    public const float Momentum = 0.1f;
    public const float Epsilon = 1e-5f;
    private readonly int _size, _channels;

    /// <param name="size">Values per sample (pixels × channels).</param>
    public BatchNormLayer(int size, int channels)
    {
        if (channels < 1 || size < channels || size % channels != 0)
            throw new ArgumentException($"batch norm over {channels} channels needs a sample size that is a positive multiple of them (got {size})");
        (_size, _channels) = (size, channels);
    }

    public int Channels => _channels;
    public int InputSize => _size;
    public int OutputSize => _size;
    public int ParameterCount => 4 * _channels;
    private int Pixels => _size / _channels;

    /// <summary>The batch's mean and variance per channel, kept by the training forward pass for the backward one.</summary>
    public int ScratchSize(int batch) => 2 * _channels;

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        var c = _channels;
        parameters[..c].Fill(1f);          // γ
        parameters.Slice(c, 2 * c).Clear(); // β, E[x]
        parameters.Slice(3 * c, c).Fill(1f); // E[x²]: unit variance
    }

    public void RegularizationMask(Span<float> mask) => mask[..ParameterCount].Clear();

    public void StateMask(Span<float> mask)
    {
        mask[..(2 * _channels)].Clear();
        mask.Slice(2 * _channels, 2 * _channels).Fill(1f);
    }

    public void FinishState(ReadOnlySpan<float> parameters, Span<float> parameterGradient)
    {
        var state = parameters.Slice(2 * _channels, 2 * _channels);
        var next = parameterGradient.Slice(2 * _channels, 2 * _channels);
        // s ← (1 − α)·s + α·m, with the batch mean m already in place.
        TensorPrimitives.Multiply(next, Momentum, next);
        TensorPrimitives.MultiplyAdd(state, 1 - Momentum, next, next);
    }

    /// <summary>Inference: the running moments.</summary>
    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var c = _channels;
        var buffer = ArrayPool<float>.Shared.Rent(2 * c);
        try
        {
            var scale = buffer.AsSpan(0, c);
            var shift = buffer.AsSpan(c, c);
            var mean = parameters.Slice(2 * c, c);
            var square = parameters.Slice(3 * c, c);
            TensorPrimitives.Multiply(mean, mean, scale);
            TensorPrimitives.Subtract(square, scale, scale);
            TensorPrimitives.Max(scale, 0f, scale);
            ToScaleShift(parameters, mean, scale, scale, shift);
            Apply(input, output, batch, scale, shift);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Training: the batch's moments.</summary>
    public void ForwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch)
    {
        var c = _channels;
        var buffer = ArrayPool<float>.Shared.Rent(4 * c);
        try
        {
            // The moments go to the scratch when there is one (a caller without it gets them recomputed in Backward).
            var moments = scratch.Length >= 2 * c ? scratch : buffer.AsSpan(2 * c, 2 * c);
            var mean = moments[..c];
            var variance = moments.Slice(c, c);
            var scale = buffer.AsSpan(0, c);
            var shift = buffer.AsSpan(c, c);
            using (var channelRows = new ChannelRows(c)) BatchMoments(channelRows, input, batch, mean, variance);
            ToScaleShift(parameters, mean, variance, scale, shift);
            Apply(input, output, batch, scale, shift);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch) =>
        Backward(parameters, input, outputGradient, inputGradient, parameterGradient, batch, []);

    /// <summary>Backward with the batch moments the training forward pass kept (the same values Backward recomputes).</summary>
    public void BackwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> scratch) =>
        Backward(parameters, input, outputGradient, inputGradient, parameterGradient, batch, scratch.Length >= 2 * _channels ? scratch[..(2 * _channels)] : []);

    private void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> moments)
    {
        var c = _channels;
        var rows = batch * Pixels;
        var buffer = ArrayPool<float>.Shared.Rent(6 * c);
        using var channelRows = new ChannelRows(c);
        try
        {
            var mean = buffer.AsSpan(0, c);
            var inverse = buffer.AsSpan(c, c);
            var sumDy = buffer.AsSpan(2 * c, c);
            var sumDyXhat = buffer.AsSpan(3 * c, c);
            var scale = buffer.AsSpan(4 * c, c);
            var offset = buffer.AsSpan(5 * c, c);
            if (moments.IsEmpty) BatchMoments(channelRows, input, batch, mean, inverse);
            else
            {
                moments[..c].CopyTo(mean);
                moments.Slice(c, c).CopyTo(inverse);
            }
            AddStateSums(mean, inverse, batch, parameterGradient.Slice(2 * c, 2 * c));
            TensorPrimitives.Add(inverse, Epsilon, inverse);
            TensorPrimitives.ReciprocalSqrt(inverse, inverse); // 1/√(σ² + ε)
            // Σ∂y, and Σ∂y·x̂ = (1/√(σ² + ε))·Σ∂y·(x − μ), in one pass
            channelRows.SumAndSumProductOfDeviation(outputGradient, input, rows, mean, sumDy, sumDyXhat);
            TensorPrimitives.Multiply(sumDyXhat, inverse, sumDyXhat);
            TensorPrimitives.Add(parameterGradient[..c], sumDyXhat, parameterGradient[..c]);
            TensorPrimitives.Add(parameterGradient.Slice(c, c), sumDy, parameterGradient.Slice(c, c));
            if (inputGradient.IsEmpty) return;
            // With a = γ/√(σ² + ε): ∂x = a·∂y − a·∂β/N − x̂·a·∂γ/N = a·∂y + e·x + (b − e·μ), per channel
            // b = −a·∂β/N and e = −a·∂γ/N/√(σ² + ε) (x̂ = (x − μ)/√(σ² + ε) unfolded): one pass over ∂y and x.
            TensorPrimitives.Multiply(parameters[..c], inverse, scale);
            TensorPrimitives.Multiply(sumDy, scale, sumDy);
            TensorPrimitives.Multiply(sumDy, -1f / rows, sumDy);             // b
            TensorPrimitives.Multiply(sumDyXhat, scale, sumDyXhat);
            TensorPrimitives.Multiply(sumDyXhat, inverse, sumDyXhat);
            TensorPrimitives.Multiply(sumDyXhat, -1f / rows, sumDyXhat);     // e
            TensorPrimitives.Multiply(sumDyXhat, mean, offset);
            TensorPrimitives.Subtract(sumDy, offset, offset);                // b − e·μ
            channelRows.Affine(outputGradient, input, rows, scale, sumDyXhat, offset, inputGradient[..(rows * c)]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Σ over the batch's samples of each sample's per-channel mean of x and of x² (divided by the rows later, the batch
    // moments): Σ_rows x / pixels = batch·μ and Σ_rows x² / pixels = batch·(σ² + μ²).
    private void AddStateSums(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int batch, Span<float> sums)
    {
        var c = _channels;
        for (var ch = 0; ch < c; ch++)
        {
            sums[ch] += batch * mean[ch];
            sums[c + ch] += batch * (variance[ch] + mean[ch] * mean[ch]);
        }
    }

    // Two passes (mean, then Σ(x − μ)²): the one-pass E[x²] − μ² loses digits in float when |μ| ≫ σ.
    private void BatchMoments(ChannelRows channelRows, ReadOnlySpan<float> input, int batch, Span<float> mean, Span<float> variance)
    {
        var rows = batch * Pixels;
        channelRows.Sum(input, rows, mean);
        TensorPrimitives.Multiply(mean, 1f / rows, mean);
        channelRows.SumProductOfDeviation(input, input, rows, mean, variance);
        TensorPrimitives.Multiply(variance, 1f / rows, variance);
    }

    // scale = γ/√(σ² + ε), shift = β − μ·scale; scale may alias variance.
    private void ToScaleShift(ReadOnlySpan<float> parameters, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, Span<float> scale, Span<float> shift)
    {
        var c = _channels;
        TensorPrimitives.Add(variance, Epsilon, scale);
        TensorPrimitives.ReciprocalSqrt(scale, scale);
        TensorPrimitives.Multiply(scale, parameters[..c], scale);
        TensorPrimitives.Multiply(mean, scale, shift);
        TensorPrimitives.Subtract(parameters.Slice(c, c), shift, shift);
    }

    private void Apply(ReadOnlySpan<float> input, Span<float> output, int batch, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        using var channelRows = new ChannelRows(_channels);
        channelRows.Affine(input, batch * Pixels, scale, shift, output);
    }
}
