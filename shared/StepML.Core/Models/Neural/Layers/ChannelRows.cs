using System.Buffers;
using System.Numerics.Tensors;

namespace StepML.Core.Models.Neural;

/// <summary>
/// Per-channel reductions and affine maps over an NHWC activation seen as <c>rows × C</c> (one row per pixel). With
/// few channels a call per row would spend its time in call overhead (ResNet's first stage has C = 16), so the
/// per-channel vectors are tiled T = ⌈512/C⌉ times and each <see cref="TensorPrimitives"/> call covers T rows; sums
/// collect in a T·C accumulator folded once at the end.
/// </summary>
internal sealed class ChannelRows : IDisposable
{
    private const int Span = 512;
    private readonly int _channels, _tile;
    private readonly float[] _a, _b, _c, _d;

    public ChannelRows(int channels)
    {
        _channels = channels;
        _tile = Math.Max(1, (Span + channels - 1) / channels);
        var length = _tile * channels;
        _a = ArrayPool<float>.Shared.Rent(length);
        _b = ArrayPool<float>.Shared.Rent(length);
        _c = ArrayPool<float>.Shared.Rent(length);
        _d = ArrayPool<float>.Shared.Rent(length);
    }

    private int Length => _tile * _channels;

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(_a);
        ArrayPool<float>.Shared.Return(_b);
        ArrayPool<float>.Shared.Return(_c);
        ArrayPool<float>.Shared.Return(_d);
    }

    private void Tile(ReadOnlySpan<float> perChannel, float[] into)
    {
        for (var t = 0; t < _tile; t++) perChannel.CopyTo(into.AsSpan(t * _channels, _channels));
    }

    private void Fold(float[] accumulator, Span<float> result)
    {
        accumulator.AsSpan(0, _channels).CopyTo(result);
        for (var t = 1; t < _tile; t++) TensorPrimitives.Add(result, accumulator.AsSpan(t * _channels, _channels), result);
    }

    /// <summary>sum_c = Σ_r x[r, c].</summary>
    public void Sum(ReadOnlySpan<float> x, int rows, Span<float> sum)
    {
        var acc = _a.AsSpan(0, Length);
        acc.Clear();
        var total = rows * _channels;
        for (var at = 0; at < total; at += Length)
        {
            var n = Math.Min(Length, total - at);
            TensorPrimitives.Add(acc[..n], x.Slice(at, n), acc[..n]);
        }
        Fold(_a, sum);
    }

    /// <summary>result_c = Σ_r y[r, c]·(x[r, c] − m_c); with y = x the squared deviations.</summary>
    public void SumProductOfDeviation(ReadOnlySpan<float> y, ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> mean, Span<float> result)
    {
        var acc = _a.AsSpan(0, Length);
        var deviation = _b.AsSpan(0, Length);
        Tile(mean, _c);
        var tiledMean = _c.AsSpan(0, Length);
        acc.Clear();
        var total = rows * _channels;
        for (var at = 0; at < total; at += Length)
        {
            var n = Math.Min(Length, total - at);
            TensorPrimitives.Subtract(x.Slice(at, n), tiledMean[..n], deviation[..n]);
            TensorPrimitives.MultiplyAdd(y.Slice(at, n), deviation[..n], acc[..n], acc[..n]);
        }
        Fold(_a, result);
    }

    /// <summary><see cref="Sum"/> of y and <see cref="SumProductOfDeviation"/> in one pass over the rows (each tile read
    /// from memory once; the same operations in the same order, so the same sums).</summary>
    public void SumAndSumProductOfDeviation(ReadOnlySpan<float> y, ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> mean,
        Span<float> sum, Span<float> result)
    {
        var sums = _d.AsSpan(0, Length);
        var acc = _a.AsSpan(0, Length);
        var deviation = _b.AsSpan(0, Length);
        Tile(mean, _c);
        var tiledMean = _c.AsSpan(0, Length);
        sums.Clear();
        acc.Clear();
        var total = rows * _channels;
        for (var at = 0; at < total; at += Length)
        {
            var n = Math.Min(Length, total - at);
            var ys = y.Slice(at, n);
            TensorPrimitives.Add(sums[..n], ys, sums[..n]);
            TensorPrimitives.Subtract(x.Slice(at, n), tiledMean[..n], deviation[..n]);
            TensorPrimitives.MultiplyAdd(ys, deviation[..n], acc[..n], acc[..n]);
        }
        Fold(_d, sum);
        Fold(_a, result);
    }

    /// <summary>out[r, c] = y[r, c]·a_c + shift_c, then out += x[r, c]·e_c, tile by tile: <see cref="Affine"/> and its
    /// accumulating form in one pass.</summary>
    public void Affine(ReadOnlySpan<float> y, ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> a, ReadOnlySpan<float> e,
        ReadOnlySpan<float> shift, Span<float> output)
    {
        Tile(a, _b);
        Tile(shift, _c);
        Tile(e, _d);
        var tiledA = _b.AsSpan(0, Length);
        var tiledShift = _c.AsSpan(0, Length);
        var tiledE = _d.AsSpan(0, Length);
        var total = rows * _channels;
        for (var at = 0; at < total; at += Length)
        {
            var n = Math.Min(Length, total - at);
            var o = output.Slice(at, n);
            TensorPrimitives.FusedMultiplyAdd(y.Slice(at, n), tiledA[..n], tiledShift[..n], o);
            TensorPrimitives.MultiplyAdd(x.Slice(at, n), tiledE[..n], o, o);
        }
    }

    /// <summary>out[r, c] = x[r, c]·scale_c + shift_c.</summary>
    public void Affine(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output)
    {
        Tile(scale, _b);
        Tile(shift, _c);
        var tiledScale = _b.AsSpan(0, Length);
        var tiledShift = _c.AsSpan(0, Length);
        var total = rows * _channels;
        for (var at = 0; at < total; at += Length)
        {
            var n = Math.Min(Length, total - at);
            TensorPrimitives.FusedMultiplyAdd(x.Slice(at, n), tiledScale[..n], tiledShift[..n], output.Slice(at, n));
        }
    }
}
