using System.Buffers;
using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// A residual connection (He et al., "Deep residual learning for image recognition", CVPR 2016): y = F(x) + S(x),
/// where F is the main path and S the shortcut, the identity when empty (then F must keep the shape) or a projection
/// (a strided 1 × 1 convolution and batch norm: the paper's option B). The ReLU that follows a ResNet block is the
/// next layer of the network; MobileNetV2's inverted residual has none. Backward: ∂x = ∂F/∂x·∂y + ∂S/∂x·∂y, the same
/// ∂y flowing down both paths. Parameters: F's, then S's.
/// </summary>
public sealed class ResidualBlock : ILayer
{
    private readonly LayerChain _main, _shortcut;

    public ResidualBlock(int inputSize, IReadOnlyList<ILayer> main, IReadOnlyList<ILayer> shortcut)
    {
        if (main.Count == 0) throw new ArgumentException("a residual block needs a main path");
        _main = new LayerChain(main, inputSize);
        _shortcut = new LayerChain(shortcut, inputSize);
        if (_shortcut.OutputSize != _main.OutputSize)
            throw new ArgumentException($"the block's main path gives {_main.OutputSize} values but its shortcut {_shortcut.OutputSize}: an identity shortcut needs the shape kept, otherwise give a projection");
    }

    public IReadOnlyList<ILayer> Main => _main.Layers;
    public IReadOnlyList<ILayer> Shortcut => _shortcut.Layers;
    public int InputSize => _main.InputSize;
    public int OutputSize => _main.OutputSize;
    public int ParameterCount => checked(_main.ParameterCount + _shortcut.ParameterCount);
    public int ScratchSize(int batch) => checked(_main.ScratchSize(batch) + _shortcut.ScratchSize(batch));

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        _main.Initialize(MainPart(parameters), random);
        _shortcut.Initialize(ShortcutPart(parameters), random);
    }

    public void RegularizationMask(Span<float> mask)
    {
        _main.RegularizationMask(MainPart(mask));
        _shortcut.RegularizationMask(ShortcutPart(mask));
    }

    public void StateMask(Span<float> mask)
    {
        _main.StateMask(MainPart(mask));
        _shortcut.StateMask(ShortcutPart(mask));
    }

    public void FinishState(ReadOnlySpan<float> parameters, Span<float> parameterGradient)
    {
        _main.FinishState(MainPart(parameters), MainPart(parameterGradient));
        _shortcut.FinishState(ShortcutPart(parameters), ShortcutPart(parameterGradient));
    }

    /// <summary>Inference (running statistics); rents its scratch.</summary>
    public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        var scratch = ArrayPool<float>.Shared.Rent(ScratchSize(batch));
        try
        {
            Run(parameters, input, output, batch, scratch.AsSpan(0, ScratchSize(batch)), training: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    public void ForwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch) =>
        Run(parameters, input, output, batch, scratch, training: true);

    /// <summary>Backward without a kept scratch (a lone block under test): repeats the training forward pass first.</summary>
    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch)
    {
        var size = ScratchSize(batch);
        var scratch = ArrayPool<float>.Shared.Rent(size);
        var y = ArrayPool<float>.Shared.Rent(batch * OutputSize);
        try
        {
            Run(parameters, input, y.AsSpan(0, batch * OutputSize), batch, scratch.AsSpan(0, size), training: true);
            BackwardTraining(parameters, input, output, outputGradient, inputGradient, parameterGradient, batch, scratch.AsSpan(0, size));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<float>.Shared.Return(y);
        }
    }

    public void BackwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> scratch)
    {
        var mainScratch = scratch[.._main.ScratchSize(batch)];
        var shortcutScratch = scratch.Slice(mainScratch.Length, _shortcut.ScratchSize(batch));
        _main.Backward(MainPart(parameters), input, outputGradient, inputGradient, MainPart(parameterGradient), batch, mainScratch);
        if (inputGradient.IsEmpty)
        {
            _shortcut.Backward(ShortcutPart(parameters), input, outputGradient, [], ShortcutPart(parameterGradient), batch, shortcutScratch);
            return;
        }
        var dx = inputGradient[..(batch * InputSize)];
        if (_shortcut.IsIdentity)
        {
            TensorPrimitives.Add(dx, outputGradient[..dx.Length], dx);
            return;
        }
        var other = ArrayPool<float>.Shared.Rent(dx.Length);
        try
        {
            _shortcut.Backward(ShortcutPart(parameters), input, outputGradient, other.AsSpan(0, dx.Length), ShortcutPart(parameterGradient), batch, shortcutScratch);
            TensorPrimitives.Add(dx, other.AsSpan(0, dx.Length), dx);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(other);
        }
    }

    private void Run(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch, bool training)
    {
        var mainScratch = scratch[.._main.ScratchSize(batch)];
        var shortcutScratch = scratch.Slice(mainScratch.Length, _shortcut.ScratchSize(batch));
        var f = _main.Forward(MainPart(parameters), input, batch, mainScratch, training);
        var s = _shortcut.Forward(ShortcutPart(parameters), input, batch, shortcutScratch, training);
        var n = batch * OutputSize;
        TensorPrimitives.Add(f[..n], s[..n], output[..n]);
    }

    private Span<float> MainPart(Span<float> values) => values[.._main.ParameterCount];
    private ReadOnlySpan<float> MainPart(ReadOnlySpan<float> values) => values[.._main.ParameterCount];
    private Span<float> ShortcutPart(Span<float> values) => values.Slice(_main.ParameterCount, _shortcut.ParameterCount);
    private ReadOnlySpan<float> ShortcutPart(ReadOnlySpan<float> values) => values.Slice(_main.ParameterCount, _shortcut.ParameterCount);
}
