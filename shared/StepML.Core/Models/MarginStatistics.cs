using System.Numerics.Tensors;
using StepML.Core.Data;
using StepML.Core.Jobs;

namespace StepML.Core.Models;

/// <summary>
/// One pass over a partition of a binary linear model (logistic regression or a linear SVM) at parameters (w, b),
/// summing per row the loss φ(z), the slope u = φ'(z) split by its sign, the conjugate φ*(u) split the same way and,
/// when asked, the curvature-weighted outer products φ''(z)·x̃x̃ᵀ with x̃ = (x, 1). These are the sufficient statistics
/// of a Newton step and of the Fenchel dual bound in <see cref="Training.DualityGap"/>. Sums in double, rows in storage
/// order, so the result is deterministic; dense and CSR rows.
/// </summary>
public sealed class MarginStatistics
{
    public MarginStatistics(int parameters, bool hessian)
    {
        SlopePositive = new double[parameters];
        SlopeNegative = new double[parameters];
        Hessian = hessian ? new double[(long)parameters * parameters] : null;
    }

    public long Rows { get; private set; }
    public double LossSum { get; private set; }
    /// <summary>Σ u·x̃ over rows with u &gt; 0 (the last entry, the bias's, is Σ u).</summary>
    public double[] SlopePositive { get; }
    /// <summary>Σ u·x̃ over rows with u &lt; 0.</summary>
    public double[] SlopeNegative { get; }
    public double ConjugatePositive { get; private set; }
    public double ConjugateNegative { get; private set; }
    /// <summary>Σ φ''(z) over rows (the bias's diagonal Hessian entry), accumulated with or without the full Hessian.</summary>
    public double CurvatureSum { get; private set; }
    /// <summary>Σ φ''(z)·x̃x̃ᵀ, row-major, upper triangle only (j ≤ k) until <see cref="SymmetricHessian"/>.</summary>
    public double[]? Hessian { get; }

    /// <summary>True for the models this pass understands (logistic, svm with either loss).</summary>
    public static bool Supports(IModel model) => model is LogisticRegression or LinearSvm;

    public void Add(IModel model, ReadOnlySpan<float> parameters, Partition data)
    {
        LinearKernels.CheckShapes(model, parameters, data);
        switch (model)
        {
            case LogisticRegression: Add<LogisticLoss>(parameters, data); break;
            case LinearSvm { Loss: SvmLosses.SquaredHinge }: Add<SquaredHingeLoss>(parameters, data); break;
            case LinearSvm: Add<HingeLoss>(parameters, data); break;
            default: throw new JobSpecException("model.type", $"'{model.Type}' is not a binary linear model (logistic or svm)");
        }
    }

    /// <summary>Copies the upper triangle of <see cref="Hessian"/> onto the lower one.</summary>
    public void SymmetricHessian()
    {
        var h = Hessian ?? throw new InvalidOperationException("no Hessian was accumulated");
        var n = SlopePositive.Length;
        for (var j = 0; j < n; j++)
            for (var k = j + 1; k < n; k++)
                h[(long)k * n + j] = h[(long)j * n + k];
    }

    private void Add<TLoss>(ReadOnlySpan<float> parameters, Partition data) where TLoss : struct, IMarginLoss
    {
        var d = parameters.Length - 1;
        var n = d + 1;
        var w = parameters[..d];
        var bias = parameters[d];
        var h = Hessian;
        DenseBlock? block = null;
        for (var r = 0; r < data.Rows; r++)
        {
            var y = data.Labels[r];
            var z = LinearKernels.Margin(w, bias, data, r);
            LossSum += TLoss.Loss(z, y);
            double u = TLoss.Slope(z, y);
            if (u != 0)
            {
                var target = u > 0 ? SlopePositive : SlopeNegative;
                if (u > 0) ConjugatePositive += TLoss.Conjugate(u, y);
                else ConjugateNegative += TLoss.Conjugate(u, y);
                target[d] += u;
                if (data.IsSparse)
                {
                    var (start, end) = (data.RowOffsets![r], data.RowOffsets[r + 1]);
                    for (var k = start; k < end; k++) target[data.Indices![k]] += u * data.Values![k];
                }
                else
                {
                    var x = data.Dense.AsSpan(r * d, d);
                    for (var j = 0; j < d; j++) target[j] += u * x[j];
                }
            }
            var c = TLoss.Curvature(z, y);
            CurvatureSum += c;
            if (h is null || c == 0) continue;
            if (data.IsSparse)
            {
                var (start, end) = (data.RowOffsets![r], data.RowOffsets[r + 1]);
                for (var a = start; a < end; a++)
                {
                    var ja = data.Indices![a];
                    var ca = c * data.Values![a];
                    for (var b = start; b < end; b++)
                    {
                        var jb = data.Indices![b];
                        if (jb >= ja) h[(long)ja * n + jb] += ca * data.Values![b];
                    }
                    h[(long)ja * n + d] += ca;
                }
            }
            else
            {
                // Dense rows are added to H a block at a time (DenseBlock.FlushInto), as dot products over the block's rows.
                block ??= new DenseBlock(d);
                block.Add(data.Dense.AsSpan(r * d, d), c);
                if (block.Count == DenseBlock.Rows) block.FlushInto(h);
                continue;
            }
            h[(long)d * n + d] += c;
        }
        block?.FlushInto(h!);
        Rows += data.Rows;
    }

    /// <summary>Up to <see cref="Rows"/> dense rows stored by column, x̃ and φ''·x̃, so the block's share of the upper
    /// triangle, H[j, k] += Σ_r c_r·x̃_rj·x̃_rk, is one SIMD dot product of two columns per entry.</summary>
    private sealed class DenseBlock(int features)
    {
        public const int Rows = 256;
        private readonly double[] _x = new double[(features + 1) * Rows];
        private readonly double[] _cx = new double[(features + 1) * Rows];

        public int Count { get; private set; }

        public void Add(ReadOnlySpan<float> x, double c)
        {
            for (var j = 0; j < features; j++)
            {
                _x[j * Rows + Count] = x[j];
                _cx[j * Rows + Count] = c * x[j];
            }
            _x[features * Rows + Count] = 1;
            _cx[features * Rows + Count] = c;
            Count++;
        }

        public void FlushInto(double[] h)
        {
            if (Count == 0) return;
            var n = features + 1;
            for (var j = 0; j < n; j++)
            {
                var cj = _cx.AsSpan(j * Rows, Count);
                for (var k = j; k < n; k++) h[(long)j * n + k] += TensorPrimitives.Dot(cj, _x.AsSpan(k * Rows, Count));
            }
            Count = 0;
        }
    }
}
