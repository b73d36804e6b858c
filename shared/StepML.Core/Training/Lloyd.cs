using StepML.Core.Data;

namespace StepML.Core.Training;

/// <summary>
/// The single-machine reference for KMeans: Lloyd's algorithm over all rows of all partitions, with plain
/// double-precision distances ‖x − c‖² (no norm expansion, no blocking), from given initial centroids, with the same
/// empty-cluster rule as the distributed run (a cluster without rows keeps its centroid). Stops when no row changes
/// cluster or after <c>maxIterations</c>.
/// </summary>
public static class Lloyd
{
    public sealed record Result(float[] Centroids, double MeanInertia, int Iterations);

    public static Result Run(IReadOnlyList<Partition> partitions, ReadOnlySpan<float> initial, int clusters, int maxIterations = 300)
    {
        var d = partitions[0].Features;
        var centroids = new double[initial.Length];
        for (var i = 0; i < centroids.Length; i++) centroids[i] = initial[i];
        var assignment = partitions.Select(p => Enumerable.Repeat(-1, p.Rows).ToArray()).ToArray();
        var iterations = 0;
        var row = new double[d];
        while (iterations < maxIterations)
        {
            iterations++;
            var changed = false;
            var sums = new double[centroids.Length];
            var counts = new long[clusters];
            for (var p = 0; p < partitions.Count; p++)
                for (var r = 0; r < partitions[p].Rows; r++)
                {
                    Row(partitions[p], r, row);
                    var (c, _) = Nearest(row, centroids, clusters);
                    changed |= assignment[p][r] != c;
                    assignment[p][r] = c;
                    counts[c]++;
                    for (var j = 0; j < d; j++) sums[c * d + j] += row[j];
                }
            if (!changed) break;
            for (var c = 0; c < clusters; c++)
                if (counts[c] > 0)
                    for (var j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] / counts[c];
        }
        var result = centroids.Select(v => (float)v).ToArray();
        return new Result(result, MeanInertia(partitions, result, clusters), iterations);
    }

    /// <summary>(1/N) Σ min_c ‖x − c‖² in double.</summary>
    public static double MeanInertia(IReadOnlyList<Partition> partitions, ReadOnlySpan<float> centroids, int clusters)
    {
        var d = partitions[0].Features;
        var c64 = new double[centroids.Length];
        for (var i = 0; i < c64.Length; i++) c64[i] = centroids[i];
        var row = new double[d];
        double sum = 0;
        long rows = 0;
        foreach (var p in partitions)
            for (var r = 0; r < p.Rows; r++)
            {
                Row(p, r, row);
                sum += Nearest(row, c64, clusters).Distance;
                rows++;
            }
        return sum / rows;
    }

    /// <summary>Index of the nearest centroid (the lowest on ties) and the squared distance to it.</summary>
    public static (int Cluster, double Distance) Nearest(ReadOnlySpan<double> row, ReadOnlySpan<double> centroids, int clusters)
    {
        var d = row.Length;
        var best = 0;
        var bestDistance = double.PositiveInfinity;
        for (var c = 0; c < clusters; c++)
        {
            double distance = 0;
            for (var j = 0; j < d; j++)
            {
                var diff = row[j] - centroids[c * d + j];
                distance += diff * diff;
            }
            if (distance < bestDistance) (best, bestDistance) = (c, distance);
        }
        return (best, bestDistance);
    }

    private static void Row(Partition p, int r, double[] row)
    {
        Array.Clear(row);
        if (p.IsSparse)
            for (var k = p.RowOffsets![r]; k < p.RowOffsets[r + 1]; k++) row[p.Indices![k]] = p.Values![k];
        else
        {
            var x = p.DenseRow(r);
            for (var j = 0; j < row.Length; j++) row[j] = x[j];
        }
    }
}
