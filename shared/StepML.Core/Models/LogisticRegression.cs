using System.Numerics.Tensors;
using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>
/// Binary logistic regression with labels y ∈ {0, 1}: parameters are d weights then the bias b,
/// z = w·x + b, loss = log(1 + e^z) − y·z (computed as max(z,0) + log1p(e^−|z|) − y·z, which never overflows),
/// ∂loss/∂z = σ(z) − y.
/// </summary>
public sealed class LogisticRegression(int features) : IDifferentiableModel
{
    private const int Block = 256;

    public string Type => Jobs.ModelTypes.Logistic;
    public int Features { get; } = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features));
    public int ParameterCount => Features + 1;

    public void Initialize(Span<float> parameters, ulong seed) => parameters.Clear();

    public void RegularizationMask(Span<float> mask)
    {
        mask[..Features].Fill(1f);
        mask[Features] = 0f;
    }

    public double LossAndGradient(ReadOnlySpan<float> parameters, Partition data, RowSelection rows, Span<float> gradient)
    {
        CheckShapes(parameters, data);
        if (gradient.Length != ParameterCount) throw new ArgumentException($"gradient has {gradient.Length} values, the model {ParameterCount}");
        gradient.Clear();
        if (rows.Count == 0) return 0;
        var d = Features;
        var w = parameters[..d];
        var bias = parameters[d];
        var x = data.Dense!;
        var labels = data.Labels;
        Span<float> g = stackalloc float[Block];
        var gw = gradient[..d];
        double loss = 0, gb = 0;
        for (var start = 0; start < rows.Count; start += Block)
        {
            var n = Math.Min(Block, rows.Count - start);
            // Pass 1: margins and dloss/dz for the block; pass 2: gradient += Σ g_i x_i.
            for (var i = 0; i < n; i++)
            {
                var r = rows.RowAt(start + i);
                var z = TensorPrimitives.Dot(w, x.AsSpan(r * d, d)) + bias;
                var y = labels[r];
                loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z))) - y * z;
                var gi = Sigmoid(z) - y;
                g[i] = gi;
                gb += gi;
            }
            for (var i = 0; i < n; i++)
                TensorPrimitives.MultiplyAdd(x.AsSpan(rows.RowAt(start + i) * d, d), g[i], gw, gw);
        }
        var inv = 1f / rows.Count;
        TensorPrimitives.Multiply(gw, inv, gw);
        gradient[d] = (float)(gb / rows.Count);
        return loss / rows.Count;
    }

    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckShapes(parameters, data);
        var d = Features;
        var w = parameters[..d];
        var bias = parameters[d];
        var x = data.Dense!;
        double loss = 0, correct = 0;
        for (var r = 0; r < data.Rows; r++)
        {
            var z = TensorPrimitives.Dot(w, x.AsSpan(r * d, d)) + bias;
            var y = data.Labels[r];
            loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z))) - y * z;
            if ((z > 0 ? 1f : 0f) == y) correct++;
        }
        return new Evaluation(loss, correct, data.Rows);
    }

    private static float Sigmoid(float z) => z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z));

    private void CheckShapes(ReadOnlySpan<float> parameters, Partition data)
    {
        if (parameters.Length != ParameterCount)
            throw new ArgumentException($"logistic regression over {Features} features has {ParameterCount} parameters, got {parameters.Length}");
        if (data.Features != Features)
            throw new ArgumentException($"partition has {data.Features} features, the model {Features}");
        if (data.IsSparse)
            throw new ArgumentException("dense logistic regression was given a sparse partition");
    }
}
