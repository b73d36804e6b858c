using System.Buffers;
using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// A feed-forward classifier over one flat parameter vector (the layers' parameters back to back): logits z = f(x),
/// loss = mean cross-entropy −log softmax(z)_y with labels y the class ids 0..K−1, metric = accuracy.
/// <see cref="LossAndGradient"/> runs the layers in training mode, and for state parameters (batch normalisation's
/// running moments, <see cref="StateMask"/>) its "gradient" is the state's new value after the batch. Evaluation and
/// prediction run in inference mode. Rows are
/// processed in chunks of <see cref="ChunkRows"/> so memory does not grow with the batch.
/// </summary>
public sealed class FeedForwardModel : IDifferentiableModel
{
    private const int ChunkRows = 256;
    private readonly ILayer[] _layers;
    private readonly int[] _offsets;

    /// <param name="augmentation">Applied to training batches that carry a seed (<see cref="RowSelection.Seed"/>).</param>
    public FeedForwardModel(string type, int classes, IReadOnlyList<ILayer> layers, ImageAugmentation? augmentation = null)
    {
        if (layers.Count == 0) throw new ArgumentException("a network needs at least one layer");
        if (classes < 2) throw new ArgumentException($"a classifier needs at least 2 classes (got {classes})");
        for (var i = 1; i < layers.Count; i++)
            if (layers[i].InputSize != layers[i - 1].OutputSize)
                throw new ArgumentException($"layer {i} takes {layers[i].InputSize} values but layer {i - 1} gives {layers[i - 1].OutputSize}");
        if (layers[^1].OutputSize != classes) throw new ArgumentException($"the last layer gives {layers[^1].OutputSize} values, not one per class ({classes})");
        if (augmentation is { IsActive: true } && (long)augmentation.Height * augmentation.Width * augmentation.Channels != layers[0].InputSize)
            throw new ArgumentException($"augmentation of {augmentation.Height}×{augmentation.Width}×{augmentation.Channels} images does not fit the network's {layers[0].InputSize} inputs");
        Type = type;
        Classes = classes;
        Augmentation = augmentation is { IsActive: true } ? augmentation : null;
        _layers = [.. layers];
        _offsets = new int[_layers.Length + 1];
        for (var i = 0; i < _layers.Length; i++) _offsets[i + 1] = checked(_offsets[i] + _layers[i].ParameterCount);
    }

    public string Type { get; }
    public int Classes { get; }
    public int Features => _layers[0].InputSize;
    public int ParameterCount => _offsets[^1];
    public IReadOnlyList<ILayer> Layers => _layers;
    public ImageAugmentation? Augmentation { get; }

    public void Initialize(Span<float> parameters, ulong seed)
    {
        CheckLength(parameters.Length, nameof(parameters));
        var random = new Xoshiro256(seed);
        for (var i = 0; i < _layers.Length; i++) _layers[i].Initialize(Slice(parameters, i), random);
    }

    public void RegularizationMask(Span<float> mask)
    {
        CheckLength(mask.Length, nameof(mask));
        for (var i = 0; i < _layers.Length; i++) _layers[i].RegularizationMask(Slice(mask, i));
    }

    public void StateMask(Span<float> mask)
    {
        CheckLength(mask.Length, nameof(mask));
        mask.Clear();
        for (var i = 0; i < _layers.Length; i++) _layers[i].StateMask(Slice(mask, i));
    }

    public double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
    {
        CheckShapes(parameters, data);
        CheckLength(gradient.Length, nameof(gradient));
        gradient.Clear();
        if (rows.Count == 0) return 0;
        using var buffers = new Buffers(_layers, Math.Min(ChunkRows, rows.Count));
        double loss = 0;
        for (var start = 0; start < rows.Count; start += ChunkRows)
        {
            var n = Math.Min(ChunkRows, rows.Count - start);
            Gather(data, rows, start, n, buffers);
            for (var i = 0; i < _layers.Length; i++)
                _layers[i].ForwardTraining(Slice(parameters, i), buffers.Activations[i], buffers.Activations[i + 1].AsSpan(0, n * _layers[i].OutputSize), n,
                    buffers.Scratch[i].AsSpan(0, _layers[i].ScratchSize(n)));
            loss += SoftmaxCrossEntropy(buffers.Activations[^1], buffers.Labels, n, Classes, buffers.Gradients[^1], out _);
            for (var i = _layers.Length - 1; i >= 0; i--)
            {
                var inputGradient = i == 0 ? Span<float>.Empty : buffers.Gradients[i].AsSpan(0, n * _layers[i].InputSize);
                _layers[i].BackwardTraining(Slice(parameters, i), buffers.Activations[i], buffers.Activations[i + 1], buffers.Gradients[i + 1],
                    inputGradient, Slice(gradient, i), n, buffers.Scratch[i].AsSpan(0, _layers[i].ScratchSize(n)));
            }
        }
        TensorPrimitives.Multiply(gradient, 1f / rows.Count, gradient);
        for (var i = 0; i < _layers.Length; i++) _layers[i].FinishState(Slice(parameters, i), Slice(gradient, i));
        return loss / rows.Count;
    }

    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckShapes(parameters, data);
        if (data.Rows == 0) return new Evaluation(0, 0, 0);
        var all = RowSelection.All(data);
        using var buffers = new Buffers(_layers, Math.Min(ChunkRows, data.Rows));
        double loss = 0, correct = 0;
        for (var start = 0; start < data.Rows; start += ChunkRows)
        {
            var n = Math.Min(ChunkRows, data.Rows - start);
            Gather(data, all, start, n, buffers);
            Forward(parameters, buffers, n);
            loss += SoftmaxCrossEntropy(buffers.Activations[^1], buffers.Labels, n, Classes, Span<float>.Empty, out var right);
            correct += right;
        }
        return new Evaluation(loss, correct, data.Rows);
    }

    /// <summary>Class with the largest logit for each row of <paramref name="data"/>.</summary>
    public int[] Predict(ReadOnlySpan<float> parameters, Partition data)
    {
        var probabilities = Probabilities(parameters, data);
        var predictions = new int[data.Rows];
        for (var r = 0; r < data.Rows; r++) predictions[r] = TensorPrimitives.IndexOfMax(probabilities.AsSpan(r * Classes, Classes));
        return predictions;
    }

    /// <summary>softmax(z) of each row, row-major <c>rows × classes</c>.</summary>
    public float[] Probabilities(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckShapes(parameters, data);
        var probabilities = new float[(long)data.Rows * Classes];
        var all = RowSelection.All(data);
        using var buffers = new Buffers(_layers, Math.Max(1, Math.Min(ChunkRows, data.Rows)));
        for (var start = 0; start < data.Rows; start += ChunkRows)
        {
            var n = Math.Min(ChunkRows, data.Rows - start);
            Gather(data, all, start, n, buffers);
            Forward(parameters, buffers, n);
            for (var r = 0; r < n; r++)
            {
                // exp(z − max z) / Σ: the shift keeps exp finite for large logits.
                var z = buffers.Activations[^1].AsSpan(r * Classes, Classes);
                var p = probabilities.AsSpan((start + r) * Classes, Classes);
                TensorPrimitives.Subtract(z, TensorPrimitives.Max(z), p);
                TensorPrimitives.Exp(p, p);
                TensorPrimitives.Divide(p, TensorPrimitives.Sum(p), p);
            }
        }
        return probabilities;
    }

    private void Forward(ReadOnlySpan<float> parameters, Buffers buffers, int n)
    {
        for (var i = 0; i < _layers.Length; i++)
            _layers[i].Forward(Slice(parameters, i), buffers.Activations[i], buffers.Activations[i + 1].AsSpan(0, n * _layers[i].OutputSize), n);
    }

    private void Gather(Partition data, RowSelection rows, int start, int n, Buffers buffers)
    {
        var d = Features;
        var x = data.Dense!;
        for (var i = 0; i < n; i++)
        {
            var r = rows.RowAt(start + i);
            if (Augmentation is not null && rows.Seed != 0)
                Augmentation.Apply(x.AsSpan(r * d, d), buffers.Activations[0].AsSpan(i * d, d), rows.Seed + (ulong)r * 0x9E3779B97F4A7C15UL);
            else
                x.AsSpan(r * d, d).CopyTo(buffers.Activations[0].AsSpan(i * d, d));
            var y = data.Labels[r];
            var label = (int)y;
            if (label != y || (uint)label >= (uint)Classes)
                throw new ArgumentException($"row {r} of the partition has label {y}: model '{Type}' expects class ids 0..{Classes - 1} (model.classes = {Classes})");
            buffers.Labels[i] = label;
        }
    }

    /// <summary>Sum over n rows of −log softmax(z)_y, computed as logsumexp(z) − z_y with the max subtracted; when
    /// <paramref name="gradient"/> is not empty it receives softmax(z) − onehot(y) (the gradient of the sum).</summary>
    internal static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int n, int classes, Span<float> gradient, out int correct)
    {
        double loss = 0;
        correct = 0;
        for (var r = 0; r < n; r++)
        {
            var z = logits.Slice(r * classes, classes);
            var best = TensorPrimitives.IndexOfMax(z);
            var max = z[best];
            double sum = 0;
            for (var j = 0; j < classes; j++) sum += Math.Exp(z[j] - max);
            var y = labels[r];
            loss += Math.Log(sum) + max - z[y];
            if (best == y) correct++;
            if (gradient.IsEmpty) continue;
            var g = gradient.Slice(r * classes, classes);
            var inv = 1.0 / sum;
            for (var j = 0; j < classes; j++) g[j] = (float)(Math.Exp(z[j] - max) * inv);
            g[y] -= 1f;
        }
        return loss;
    }

    private Span<float> Slice(Span<float> values, int layer) => values[_offsets[layer].._offsets[layer + 1]];
    private ReadOnlySpan<float> Slice(ReadOnlySpan<float> values, int layer) => values[_offsets[layer].._offsets[layer + 1]];

    private void CheckLength(int length, string name)
    {
        if (length != ParameterCount) throw new ArgumentException($"{name} has {length} values; model '{Type}' has {ParameterCount} parameters");
    }

    private void CheckShapes(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckLength(parameters.Length, nameof(parameters));
        if (data.Features != Features) throw new ArgumentException($"partition has {data.Features} features, model '{Type}' takes {Features}");
        if (data.IsSparse) throw new ArgumentException($"model '{Type}' needs a dense partition; this one is sparse");
    }

    // Activations[i] is layer i's input (Activations[0] the gathered rows); Gradients[i] is ∂L/∂Activations[i].
    // Rented from the shared pool: every layer writes its outputs before anything reads them, so stale contents are
    // harmless, and a warm worker does not allocate (or zero) megabytes per mini-batch.
    private sealed class Buffers : IDisposable
    {
        public Buffers(ILayer[] layers, int rows)
        {
            Activations = new float[layers.Length + 1][];
            Gradients = new float[layers.Length + 1][];
            Scratch = new float[layers.Length][];
            for (var i = 0; i < layers.Length; i++) Scratch[i] = layers[i].ScratchSize(rows) is var size and > 0 ? ArrayPool<float>.Shared.Rent(size) : [];
            Activations[0] = ArrayPool<float>.Shared.Rent(rows * layers[0].InputSize);
            Gradients[0] = [];
            for (var i = 0; i < layers.Length; i++)
            {
                Activations[i + 1] = ArrayPool<float>.Shared.Rent(rows * layers[i].OutputSize);
                Gradients[i + 1] = ArrayPool<float>.Shared.Rent(rows * layers[i].OutputSize);
            }
            Labels = ArrayPool<int>.Shared.Rent(rows);
        }

        public float[][] Activations { get; }
        public float[][] Gradients { get; }
        public float[][] Scratch { get; }
        public int[] Labels { get; }

        public void Dispose()
        {
            foreach (var a in Activations) ArrayPool<float>.Shared.Return(a);
            foreach (var g in Gradients) if (g.Length > 0) ArrayPool<float>.Shared.Return(g);
            foreach (var s in Scratch) if (s.Length > 0) ArrayPool<float>.Shared.Return(s);
            ArrayPool<int>.Shared.Return(Labels);
        }
    }
}
