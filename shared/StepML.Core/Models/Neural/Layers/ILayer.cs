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

    /// <summary>Floats a training <see cref="ForwardTraining"/> keeps for <see cref="BackwardTraining"/> (a block's inner
    /// activations) for <paramref name="batch"/> samples; 0 for layers that need nothing beyond their input and output.</summary>
    int ScratchSize(int batch) => 0;

    /// <summary>The forward pass while training: batch normalisation uses the batch's statistics here and its running
    /// ones in <see cref="Forward"/> (inference). The layer may keep values in <paramref name="scratch"/> for Backward.</summary>
    void ForwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch) =>
        Forward(parameters, input, output, batch);

    /// <summary><see cref="Backward"/> after <see cref="ForwardTraining"/> with the same scratch.</summary>
    void BackwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> scratch) =>
        Backward(parameters, input, output, outputGradient, inputGradient, parameterGradient, batch);

    /// <summary>Writes 1 for <b>state</b>: parameters set by training but not by gradients (batch normalisation's running
    /// moments). For those slots Backward <i>adds</i> per-sample sums, and once the model has divided the gradient by
    /// the batch's rows, <see cref="FinishState"/> turns the batch means into the state's new value.</summary>
    void StateMask(Span<float> mask) { }

    /// <summary>Replaces the batch means in the state slots of <paramref name="parameterGradient"/> by the new state.</summary>
    void FinishState(ReadOnlySpan<float> parameters, Span<float> parameterGradient) { }
}

