namespace StepML.Core.Algorithms;

/// <summary>
/// Σ w_i s_i / Σ w_i over contributors added in a fixed (partition) order, accumulated in double. The caller adds
/// contributions sorted by partition id, so the merged bits do not depend on which worker finished first.
/// </summary>
public sealed class WeightedAverage
{
    private readonly double[] _sum;
    private readonly bool _normalize;
    private double _weight;

    /// <param name="normalize">false for <see cref="MergeKind.Sum"/>: the result is Σ w_i s_i, not divided by Σ w_i.</param>
    public WeightedAverage(int length, bool normalize = true)
    {
        _sum = new double[length];
        _normalize = normalize;
    }

    public int Contributors { get; private set; }

    public void Add(double weight, ReadOnlySpan<float> values)
    {
        if (values.Length != _sum.Length) throw new ArgumentException($"statistic slice has {values.Length} values, expected {_sum.Length}");
        if (!(weight > 0) || !double.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "weights must be finite and > 0");
        for (var i = 0; i < values.Length; i++) _sum[i] += weight * values[i];
        _weight += weight;
        Contributors++;
    }

    public void WriteTo(Span<float> result)
    {
        if (Contributors == 0) throw new InvalidOperationException("no statistic was merged: every worker of the round failed");
        var inv = _normalize ? 1.0 / _weight : 1.0;
        for (var i = 0; i < _sum.Length; i++) result[i] = (float)(_sum[i] * inv);
    }
}
