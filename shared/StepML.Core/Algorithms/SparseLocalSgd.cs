using StepML.Core.Data;
using StepML.Core.Models;

namespace StepML.Core.Algorithms;

/// <summary>How local SGD steps treat the weights a mini-batch does not touch.</summary>
public enum SparseUpdates
{
    /// <summary>Only the batch's non-zeros per step (CSR partitions of the binary linear models); the default.</summary>
    Lazy,
    /// <summary>Every weight every step, O(d) per step: the reference the benchmark compares with.</summary>
    Dense,
}

/// <summary>
/// Local mini-batch SGD for the binary linear models on CSR partitions in O(non-zeros of the batch) per step, the same
/// iteration as <see cref="LocalSgd"/>: x ← x − η(g + λ·m∘x + ρ(x − c)). For the weights (m = 1) this is
/// y ← r·y − η·g with y = x − c', r = 1 − η(λ + ρ) and the fixed point c' = ρc/(λ + ρ), and g is non-zero only on the
/// batch's columns. So the weights are kept as x = c' + s·ŷ: a step multiplies the scalar s by r and subtracts
/// η·g_j/s from ŷ_j on the batch's columns only (Langford, Li and Zhang, "Sparse online learning via truncated
/// gradient", JMLR 2009, and Bottou's "lazy" L2 updates). The bias (m = 0) is updated directly. When s falls below
/// 1e-6 it is folded back into ŷ (one O(d) pass). Margins of the batch use the weights before the step, as the dense
/// gradient does; rows and columns in a fixed order, so the result is deterministic.
/// </summary>
internal static class SparseLocalSgd
{
    /// <summary>CSR rows of a binary linear model (weights regularised, bias not); a decay factor r = 1 − η(λ + ρ) &gt; 0
    /// (otherwise the scale s would reach 0); and batches whose non-zeros are fewer than the features: a batch that
    /// touches more entries than d gains nothing from skipping the O(d) step (measured by `stepml bench-models`,
    /// <c>sparseLocalUpdates</c>), so such jobs keep the dense step.</summary>
    public static bool Applies(IModel model, Partition data, ReadOnlySpan<float> mask, Jobs.AlgorithmSpec spec, float lambda, float rho) =>
        data.IsSparse && model is LogisticRegression or LinearSvm && mask[^1] == 0 && 1 - spec.LearningRate * ((double)lambda + rho) > 0
        && data.Rows > 0 && (double)Math.Min(MiniBatches.IsFullBatch(spec.BatchSize, data.Rows) ? data.Rows : spec.BatchSize, data.Rows) * data.Values!.Length / data.Rows < data.Features;

    /// <returns>The mean data loss over the first step's batch (the whole partition for full batches), the rows visited,
    /// and whether the worker's budget ended the steps early (read between steps, after at least one).</returns>
    public static LocalSgd.Outcome Run(WorkerInput input, Jobs.AlgorithmSpec spec, Span<float> x, float lambda, ReadOnlySpan<float> center, float rho, long steps, long firstStep)
    {
        return input.Model switch
        {
            LogisticRegression => Run<LogisticLoss>(input, spec, x, lambda, center, rho, steps, firstStep),
            LinearSvm { Loss: Jobs.SvmLosses.SquaredHinge } => Run<SquaredHingeLoss>(input, spec, x, lambda, center, rho, steps, firstStep),
            _ => Run<HingeLoss>(input, spec, x, lambda, center, rho, steps, firstStep),
        };
    }

    private static LocalSgd.Outcome Run<TLoss>(WorkerInput input, Jobs.AlgorithmSpec spec, Span<float> x, float lambda, ReadOnlySpan<float> center, float rho, long steps, long firstStep)
        where TLoss : struct, IMarginLoss
    {
        var data = input.Data;
        var d = x.Length - 1;
        var eta = (double)spec.LearningRate;
        var decay = (double)lambda + rho;
        var r = 1 - eta * decay;
        // The decay's fixed point c' (zero without a proximal term) and the scaled offsets ŷ = (x − c')/s.
        var fixedPoint = rho > 0 ? new float[d] : null;
        if (fixedPoint is not null)
            for (var j = 0; j < d; j++) fixedPoint[j] = (float)(rho * (double)center[j] / decay);
        var scaled = new float[d];
        for (var j = 0; j < d; j++) scaled[j] = fixedPoint is null ? x[j] : x[j] - fixedPoint[j];
        double s = 1;
        double bias = x[d];
        var biasCenter = rho > 0 ? center[d] : 0f;
        var offsets = data.RowOffsets!;
        var indices = data.Indices!;
        var values = data.Values!;
        // c'·x_row is the same every step of the round: computed once per row, when the row is first visited.
        var centerDots = fixedPoint is null ? null : new float[data.Rows];
        var known = fixedPoint is null ? null : new bool[data.Rows];
        int[]? order = null;
        long orderEpoch = -1;
        var slopes = Array.Empty<float>();
        double firstLoss = double.NaN;
        long visited = 0;
        var cut = false;
        for (long step = 0; step < steps; step++)
        {
            if (step > 0 && input.Budget.IsSpent)
            {
                cut = true;
                break;
            }
            var batch = MiniBatches.Batch(data, spec.BatchSize, input.Seed, input.Partition, firstStep + step, ref order, ref orderEpoch);
            visited += batch.Count;
            if (slopes.Length < batch.Count) slopes = new float[batch.Count];
            double loss = 0, biasSlope = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                var row = batch.RowAt(i);
                var (begin, length) = (offsets[row], offsets[row + 1] - offsets[row]);
                var idx = indices.AsSpan(begin, length);
                var val = values.AsSpan(begin, length);
                var z = bias + s * LinearKernels.SparseDot(scaled, idx, val);
                if (centerDots is not null)
                {
                    if (!known![row])
                    {
                        centerDots[row] = LinearKernels.SparseDot(fixedPoint, idx, val);
                        known[row] = true;
                    }
                    z += centerDots[row];
                }
                var y = data.Labels[row];
                loss += TLoss.Loss((float)z, y);
                slopes[i] = TLoss.Slope((float)z, y);
                biasSlope += slopes[i];
            }
            if (step == 0) firstLoss = batch.Count == 0 ? 0 : loss / batch.Count;
            if (batch.Count == 0) continue;
            var inv = 1.0 / batch.Count;
            bias -= eta * (biasSlope * inv + rho * (bias - biasCenter));
            s *= r;
            if (s < 1e-6)
            {
                // Fold s back into ŷ before float ŷ loses the old steps against the new, 1/s-sized ones.
                for (var j = 0; j < d; j++) scaled[j] = (float)(scaled[j] * s);
                s = 1;
            }
            var factor = eta * inv / s;
            for (var i = 0; i < batch.Count; i++)
            {
                if (slopes[i] == 0) continue;
                var row = batch.RowAt(i);
                var (begin, length) = (offsets[row], offsets[row + 1] - offsets[row]);
                LinearKernels.SparseAxpy(scaled, indices.AsSpan(begin, length), values.AsSpan(begin, length), (float)(-slopes[i] * factor));
            }
        }
        for (var j = 0; j < d; j++) x[j] = (float)((fixedPoint is null ? 0 : fixedPoint[j]) + s * scaled[j]);
        x[d] = (float)bias;
        return new LocalSgd.Outcome(firstLoss, visited, cut);
    }
}
