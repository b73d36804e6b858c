using System.Buffers;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// A sequence of layers inside a block (<see cref="ResidualBlock"/>), over one slice of parameters. Scratch holds,
/// per layer, its output activation and then its own scratch, so a training forward pass leaves everything the
/// backward pass reads and the block stays stateless (one model may serve concurrent workers).
/// </summary>
internal sealed class LayerChain
{
    private readonly ILayer[] _layers;
    private readonly int[] _offsets;

    public LayerChain(IReadOnlyList<ILayer> layers, int inputSize)
    {
        _layers = [.. layers];
        InputSize = inputSize;
        for (var i = 0; i < _layers.Length; i++)
        {
            var before = i == 0 ? inputSize : _layers[i - 1].OutputSize;
            if (_layers[i].InputSize != before) throw new ArgumentException($"block layer {i} takes {_layers[i].InputSize} values but gets {before}");
        }
        _offsets = new int[_layers.Length + 1];
        for (var i = 0; i < _layers.Length; i++) _offsets[i + 1] = checked(_offsets[i] + _layers[i].ParameterCount);
    }

    public IReadOnlyList<ILayer> Layers => _layers;
    public int InputSize { get; }
    public int OutputSize => _layers.Length == 0 ? InputSize : _layers[^1].OutputSize;
    public int ParameterCount => _offsets[^1];
    public bool IsIdentity => _layers.Length == 0;

    public int ScratchSize(int batch)
    {
        var size = 0;
        foreach (var layer in _layers) size = checked(size + batch * layer.OutputSize + layer.ScratchSize(batch));
        return size;
    }

    public void Initialize(Span<float> parameters, Xoshiro256 random)
    {
        for (var i = 0; i < _layers.Length; i++) _layers[i].Initialize(Slice(parameters, i), random);
    }

    public void RegularizationMask(Span<float> mask)
    {
        for (var i = 0; i < _layers.Length; i++) _layers[i].RegularizationMask(Slice(mask, i));
    }

    public void StateMask(Span<float> mask)
    {
        for (var i = 0; i < _layers.Length; i++) _layers[i].StateMask(Slice(mask, i));
    }

    public void FinishState(ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        for (var i = 0; i < _layers.Length; i++) _layers[i].FinishState(Slice(parameters, i), Slice(gradient, i));
    }

    /// <summary>Runs the layers (training or inference) and returns the last one's output, which lives in scratch
    /// (the input itself for an empty chain).</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, int batch, Span<float> scratch, bool training)
    {
        var x = input;
        var at = 0;
        for (var i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var y = scratch.Slice(at, batch * layer.OutputSize);
            var own = scratch.Slice(at + y.Length, layer.ScratchSize(batch));
            if (training) layer.ForwardTraining(Slice(parameters, i), x, y, batch, own);
            else layer.Forward(Slice(parameters, i), x, y, batch);
            at += y.Length + own.Length;
            x = y;
        }
        return x;
    }

    /// <summary>Backward through the layers after a training <see cref="Forward"/> with the same scratch; overwrites
    /// <paramref name="inputGradient"/> (unless empty) and adds to <paramref name="parameterGradient"/>.</summary>
    public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> scratch)
    {
        if (_layers.Length == 0)
        {
            if (!inputGradient.IsEmpty) outputGradient[..(batch * InputSize)].CopyTo(inputGradient);
            return;
        }
        var largest = 0;
        foreach (var layer in _layers) largest = Math.Max(largest, batch * layer.InputSize);
        var ping = ArrayPool<float>.Shared.Rent(largest);
        var pong = ArrayPool<float>.Shared.Rent(largest);
        try
        {
            // Where each layer's output and scratch start in scratch.
            Span<int> starts = stackalloc int[_layers.Length];
            var at = 0;
            for (var i = 0; i < _layers.Length; i++)
            {
                starts[i] = at;
                at += batch * _layers[i].OutputSize + _layers[i].ScratchSize(batch);
            }
            var dy = outputGradient;
            for (var i = _layers.Length - 1; i >= 0; i--)
            {
                var layer = _layers[i];
                var y = scratch.Slice(starts[i], batch * layer.OutputSize);
                var own = scratch.Slice(starts[i] + y.Length, layer.ScratchSize(batch));
                var x = i == 0 ? input : scratch.Slice(starts[i - 1], batch * layer.InputSize);
                var dx = i == 0 ? inputGradient : ((i & 1) == 0 ? ping : pong).AsSpan(0, batch * layer.InputSize);
                layer.BackwardTraining(Slice(parameters, i), x, y, dy, dx, Slice(parameterGradient, i), batch, own);
                dy = dx;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ping);
            ArrayPool<float>.Shared.Return(pong);
        }
    }

    private Span<float> Slice(Span<float> values, int layer) => values[_offsets[layer].._offsets[layer + 1]];
    private ReadOnlySpan<float> Slice(ReadOnlySpan<float> values, int layer) => values[_offsets[layer].._offsets[layer + 1]];
}
