using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StepML.Core.Data;

namespace StepML.Core.Models;

/// <summary>
/// KMeans over k centroids of d features, stored row-major as the parameter vector (centroid c is
/// <c>[c·d, (c+1)·d)</c>). Each row belongs to its nearest centroid; the loss is the inertia Σ_r min_c ‖x_r − c‖²
/// (<see cref="Evaluate"/> returns it as both the loss and the metric, <see cref="MetricName"/> "inertia").
/// Distances are ‖x‖² − 2x·c + ‖c‖² with cached norms (as ML.NET's KMeansPlusPlusInit); the cross terms for a block of
/// rows against all centroids are a small matrix product against the transposed centroids, and for CSR rows a sum
/// over the row's non-zeros only. Trained by <see cref="Algorithms.KMeansEm"/>; there is no gradient.
/// </summary>
public sealed class KMeans : IModel
{
    /// <summary>Rows of the first partition that k-means++ seeding looks at.</summary>
    public const int SeedingSampleRows = 16_384;

    private const int Lanes = 8;

    public KMeans(int features, int clusters)
    {
        Features = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features));
        Clusters = clusters > 0 ? clusters : throw new Jobs.JobSpecException("model.clusters", $"{clusters} must be ≥ 1");
        if ((long)features * clusters > Array.MaxLength / 2)
            throw new Jobs.JobSpecException("model.clusters", $"{clusters} clusters × {features} features is too many parameters");
    }

    public string Type => Jobs.ModelTypes.KMeans;
    public int Features { get; }
    public int Clusters { get; }
    public int ParameterCount => checked(Features * Clusters);
    public string MetricName => "inertia";
    public bool InitializesFromData => true;

    public void Initialize(Span<float> parameters, ulong seed) =>
        throw new InvalidOperationException("kmeans seeds its centroids from data (k-means++): call Initialize(parameters, seed, sample) with a partition");

    /// <summary>
    /// k-means++ (Arthur and Vassilvitskii 2007): on a seeded sample of at most <see cref="SeedingSampleRows"/> rows
    /// of <paramref name="sample"/>, the first centroid is a uniformly drawn row and each next one a row drawn with
    /// probability proportional to its squared distance to the nearest centroid chosen so far (uniformly when every
    /// distance is 0, e.g. fewer distinct rows than clusters).
    /// </summary>
    public void Initialize(Span<float> parameters, ulong seed, Partition sample)
    {
        CheckShapes(parameters, sample);
        if (sample.Rows == 0) throw new ArgumentException("k-means++ needs at least one row in the first partition");
        var random = new Xoshiro256(seed ^ 0x6B6D65616E732B2BUL);
        var m = Math.Min(sample.Rows, SeedingSampleRows);
        // Partial Fisher–Yates: the first m entries become a uniform sample without replacement.
        var rows = new int[sample.Rows];
        for (var i = 0; i < rows.Length; i++) rows[i] = i;
        for (var i = 0; i < m; i++)
        {
            var j = i + random.NextInt(rows.Length - i);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        var d = Features;
        var norms = new float[m];
        for (var i = 0; i < m; i++) norms[i] = SquaredNorm(sample, rows[i]);
        var nearest = new double[m];
        Array.Fill(nearest, double.PositiveInfinity);
        var chosen = random.NextInt(m);
        for (var c = 0; c < Clusters; c++)
        {
            var centroid = parameters.Slice(c * d, d);
            CopyRow(sample, rows[chosen], centroid);
            var centroidNorm = TensorPrimitives.Dot(centroid, centroid);
            double total = 0;
            for (var i = 0; i < m; i++)
            {
                var distance = Math.Max(0, norms[i] - 2 * Dot(sample, rows[i], centroid) + centroidNorm);
                if (distance < nearest[i]) nearest[i] = distance;
                total += nearest[i];
            }
            if (c + 1 == Clusters) break;
            if (!(total > 0))
            {
                chosen = random.NextInt(m);
                continue;
            }
            var target = random.NextDouble() * total;
            chosen = m - 1;
            double running = 0;
            for (var i = 0; i < m; i++)
            {
                running += nearest[i];
                if (running > target && nearest[i] > 0) { chosen = i; break; }
            }
        }
    }

    /// <summary>KMeans has no penalty: every entry is 0.</summary>
    public void RegularizationMask(Span<float> mask) => mask.Clear();

    public Evaluation Evaluate(ReadOnlySpan<float> parameters, Partition data)
    {
        CheckShapes(parameters, data);
        var inertia = Accumulate(parameters, data, default, default);
        return new Evaluation(inertia, inertia, data.Rows);
    }

    /// <summary>
    /// Assigns every row of <paramref name="data"/> to its nearest centroid, adds the row to that cluster's entry of
    /// <paramref name="sums"/> (k × d, may be empty to skip) and 1 to <paramref name="counts"/> (k), and returns the
    /// inertia Σ_r ‖x_r − c(r)‖². Ties go to the lower cluster index.
    /// </summary>
    public double Accumulate(ReadOnlySpan<float> centroids, Partition data, Span<double> sums, Span<double> counts)
    {
        CheckShapes(centroids, data);
        var accumulate = !sums.IsEmpty;
        if (accumulate && (sums.Length != ParameterCount || counts.Length != Clusters))
            throw new ArgumentException($"sums need {ParameterCount} values and counts {Clusters}, got {sums.Length} and {counts.Length}");
        var assignment = new Assignment(this, centroids);
        var cluster = new int[Assignment.RowBlock];
        var distance = new float[Assignment.RowBlock];
        var d = Features;
        double inertia = 0;
        for (var start = 0; start < data.Rows; start += Assignment.RowBlock)
        {
            var n = Math.Min(Assignment.RowBlock, data.Rows - start);
            assignment.Assign(data, start, n, cluster, distance);
            for (var i = 0; i < n; i++)
            {
                inertia += distance[i];
                if (!accumulate) continue;
                var c = cluster[i];
                counts[c] += 1;
                var sum = sums.Slice(c * d, d);
                var r = start + i;
                if (data.IsSparse)
                {
                    for (var k = data.RowOffsets![r]; k < data.RowOffsets[r + 1]; k++) sum[data.Indices![k]] += data.Values![k];
                }
                else
                {
                    var x = data.Dense.AsSpan(r * d, d);
                    for (var j = 0; j < d; j++) sum[j] += x[j];
                }
            }
        }
        return inertia;
    }

    /// <summary>Nearest centroid and squared distance of rows [<paramref name="start"/>, start + count).</summary>
    public void Assign(ReadOnlySpan<float> centroids, Partition data, int start, int count, Span<int> cluster, Span<float> distance)
    {
        CheckShapes(centroids, data);
        if ((uint)start > (uint)data.Rows || (uint)count > (uint)(data.Rows - start)) throw new ArgumentOutOfRangeException(nameof(count));
        if (cluster.Length < count || distance.Length < count) throw new ArgumentException($"outputs hold fewer than {count} rows");
        var assignment = new Assignment(this, centroids);
        for (var at = 0; at < count; at += Assignment.RowBlock)
        {
            var n = Math.Min(Assignment.RowBlock, count - at);
            assignment.Assign(data, start + at, n, cluster.Slice(at, n), distance.Slice(at, n));
        }
    }

    private void CheckShapes(ReadOnlySpan<float> parameters, Partition data)
    {
        if (parameters.Length != ParameterCount)
            throw new ArgumentException($"kmeans with {Clusters} clusters over {Features} features has {ParameterCount} parameters, got {parameters.Length}");
        if (data.Features != Features)
            throw new ArgumentException($"partition has {data.Features} features, the model {Features}");
    }

    private static float SquaredNorm(Partition data, int r)
    {
        if (!data.IsSparse) return TensorPrimitives.Dot(data.DenseRow(r), data.DenseRow(r));
        var values = data.Values.AsSpan(data.RowOffsets![r], data.RowOffsets[r + 1] - data.RowOffsets[r]);
        return TensorPrimitives.Dot(values, values);
    }

    private static float Dot(Partition data, int r, ReadOnlySpan<float> dense)
    {
        if (!data.IsSparse) return TensorPrimitives.Dot(data.DenseRow(r), dense);
        var start = data.RowOffsets![r];
        var length = data.RowOffsets[r + 1] - start;
        return LinearKernels.SparseDot(dense, data.Indices.AsSpan(start, length), data.Values.AsSpan(start, length));
    }

    private static void CopyRow(Partition data, int r, Span<float> target)
    {
        if (!data.IsSparse)
        {
            data.DenseRow(r).CopyTo(target);
            return;
        }
        target.Clear();
        for (var k = data.RowOffsets![r]; k < data.RowOffsets[r + 1]; k++) target[data.Indices![k]] = data.Values![k];
    }

    /// <summary>
    /// The centroids transposed and padded to a multiple of 8 clusters (d × k₈, padding 0 with norm +∞), so that the
    /// cross terms x·c of one row against 8 centroids are one vector FMA per feature (dense) or per non-zero (CSR);
    /// dense rows go four at a time to reuse each load of the centroids.
    /// </summary>
    private sealed class Assignment
    {
        public const int RowBlock = 256;

        private readonly float[] _transposed;
        private readonly float[] _norms;
        private readonly float[] _dots;
        private readonly int _features;
        private readonly int _clusters;
        private readonly int _padded;

        public Assignment(KMeans model, ReadOnlySpan<float> centroids)
        {
            _features = model.Features;
            _clusters = model.Clusters;
            _padded = (_clusters + Lanes - 1) / Lanes * Lanes;
            _transposed = new float[(long)_features * _padded];
            _norms = new float[_padded];
            _dots = new float[4 * _padded];
            for (var c = 0; c < _clusters; c++)
            {
                var centroid = centroids.Slice(c * _features, _features);
                _norms[c] = TensorPrimitives.Dot(centroid, centroid);
                for (var j = 0; j < _features; j++) _transposed[j * _padded + c] = centroid[j];
            }
            for (var c = _clusters; c < _padded; c++) _norms[c] = float.PositiveInfinity;
        }

        public void Assign(Partition data, int start, int count, Span<int> cluster, Span<float> distance)
        {
            if (data.IsSparse)
            {
                for (var i = 0; i < count; i++) AssignSparse(data, start + i, out cluster[i], out distance[i]);
                return;
            }
            var d = _features;
            var x = data.Dense!;
            var i4 = 0;
            for (; i4 + 4 <= count; i4 += 4)
            {
                DenseDots4(x.AsSpan((start + i4) * d, 4 * d));
                for (var q = 0; q < 4; q++)
                    Nearest(_dots.AsSpan(q * _padded, _padded), SquaredNorm(data, start + i4 + q), out cluster[i4 + q], out distance[i4 + q]);
            }
            for (var i = i4; i < count; i++)
            {
                DenseDots1(x.AsSpan((start + i) * d, d));
                Nearest(_dots.AsSpan(0, _padded), SquaredNorm(data, start + i), out cluster[i], out distance[i]);
            }
        }

        private void AssignSparse(Partition data, int r, out int cluster, out float distance)
        {
            var dots = _dots.AsSpan(0, _padded);
            dots.Clear();
            var begin = data.RowOffsets![r];
            var idx = data.Indices.AsSpan(begin, data.RowOffsets[r + 1] - begin);
            var val = data.Values.AsSpan(begin, idx.Length);
            ref var acc = ref MemoryMarshal.GetReference(dots);
            ref var cT = ref MemoryMarshal.GetArrayDataReference(_transposed);
            for (var k = 0; k < idx.Length; k++)
            {
                var v = Vector256.Create(val[k]);
                ref var column = ref Unsafe.Add(ref cT, (nint)idx[k] * _padded);
                for (var c = 0; c < _padded; c += Lanes)
                {
                    var sum = Vector256.MultiplyAddEstimate(v, Vector256.LoadUnsafe(ref column, (nuint)c), Vector256.LoadUnsafe(ref acc, (nuint)c));
                    sum.StoreUnsafe(ref acc, (nuint)c);
                }
            }
            Nearest(dots, TensorPrimitives.Dot(val, val), out cluster, out distance);
        }

        // Four consecutive rows against all centroids: each 8-wide load of the transposed centroids feeds 4 FMAs.
        private void DenseDots4(ReadOnlySpan<float> rows)
        {
            var d = _features;
            ref var x = ref MemoryMarshal.GetReference(rows);
            ref var cT = ref MemoryMarshal.GetArrayDataReference(_transposed);
            ref var dots = ref MemoryMarshal.GetArrayDataReference(_dots);
            for (var c = 0; c < _padded; c += Lanes)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var j = 0; j < d; j++)
                {
                    var column = Vector256.LoadUnsafe(ref cT, (nuint)((nint)j * _padded + c));
                    a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, j)), column, a0);
                    a1 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, d + j)), column, a1);
                    a2 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, 2 * d + j)), column, a2);
                    a3 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, 3 * d + j)), column, a3);
                }
                a0.StoreUnsafe(ref dots, (nuint)c);
                a1.StoreUnsafe(ref dots, (nuint)(_padded + c));
                a2.StoreUnsafe(ref dots, (nuint)(2 * _padded + c));
                a3.StoreUnsafe(ref dots, (nuint)(3 * _padded + c));
            }
        }

        private void DenseDots1(ReadOnlySpan<float> row)
        {
            ref var x = ref MemoryMarshal.GetReference(row);
            ref var cT = ref MemoryMarshal.GetArrayDataReference(_transposed);
            ref var dots = ref MemoryMarshal.GetArrayDataReference(_dots);
            for (var c = 0; c < _padded; c += Lanes)
            {
                Vector256<float> a = default;
                for (var j = 0; j < _features; j++)
                    a = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref x, j)), Vector256.LoadUnsafe(ref cT, (nuint)((nint)j * _padded + c)), a);
                a.StoreUnsafe(ref dots, (nuint)c);
            }
        }

        // ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖² can come out slightly negative by cancellation when x ≈ c: clamp at 0.
        private void Nearest(ReadOnlySpan<float> dots, float rowNorm, out int cluster, out float distance)
        {
            var best = 0;
            var bestValue = float.PositiveInfinity;
            for (var c = 0; c < _clusters; c++)
            {
                var value = _norms[c] - 2 * dots[c];
                if (value < bestValue) { bestValue = value; best = c; }
            }
            cluster = best;
            distance = MathF.Max(0, rowNorm + bestValue);
        }
    }
}
