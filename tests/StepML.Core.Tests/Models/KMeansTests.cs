using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Models;

public sealed class KMeansTests
{
    private static float[] RandomCentroids(int clusters, int features, ulong seed)
    {
        var random = new Xoshiro256(seed);
        var c = new float[clusters * features];
        for (var i = 0; i < c.Length; i++) c[i] = (float)(1.5 * random.NextGaussian());
        return c;
    }

    private static double[] RowOf(Partition dense, int r) => dense.DenseRow(r).ToArray().Select(v => (double)v).ToArray();

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(11, 13, false)]
    [InlineData(11, 13, true)]
    [InlineData(16, 5, false)]
    [InlineData(3, 40, true)]
    public void Assign_RandomData_MatchesBruteForce(int clusters, int features, bool sparse)
    {
        // 1030 rows: not a multiple of the 4-row or 256-row blocks.
        var (dense, csr) = LinearModelTests.RandomData(1030, features, seed: (ulong)(clusters * 100 + features));
        var data = sparse ? csr : dense;
        var model = new KMeans(features, clusters);
        var centroids = RandomCentroids(clusters, features, seed: 5);
        var c64 = centroids.Select(v => (double)v).ToArray();
        var cluster = new int[data.Rows];
        var distance = new float[data.Rows];

        model.Assign(centroids, data, 0, data.Rows, cluster, distance);

        for (var r = 0; r < data.Rows; r++)
        {
            var (best, bestDistance) = Lloyd.Nearest(RowOf(dense, r), c64, clusters);
            Assert.InRange(distance[r] - bestDistance, -1e-4 * (1 + bestDistance), 1e-4 * (1 + bestDistance));
            if (cluster[r] != best)
            {
                // Only a numerical near-tie may pick another cluster, and then at the same distance.
                var (_, chosenDistance) = Lloyd.Nearest(RowOf(dense, r), c64.AsSpan(cluster[r] * features, features).ToArray(), 1);
                Assert.InRange(chosenDistance - bestDistance, 0, 1e-4 * (1 + bestDistance));
            }
        }
    }

    [Fact]
    public void Accumulate_SumsAndCounts_MatchNaive()
    {
        var (dense, csr) = LinearModelTests.RandomData(517, 9, seed: 31);
        var model = new KMeans(9, 4);
        var centroids = RandomCentroids(4, 9, seed: 32);
        foreach (var data in new[] { dense, csr })
        {
            var sums = new double[36];
            var counts = new double[4];

            var inertia = model.Accumulate(centroids, data, sums, counts);

            var expectedSums = new double[36];
            var expectedCounts = new double[4];
            double expectedInertia = 0;
            for (var r = 0; r < dense.Rows; r++)
            {
                var row = RowOf(dense, r);
                var (c, d2) = Lloyd.Nearest(row, centroids.Select(v => (double)v).ToArray(), 4);
                expectedCounts[c]++;
                expectedInertia += d2;
                for (var j = 0; j < 9; j++) expectedSums[c * 9 + j] += row[j];
            }
            Assert.Equal(expectedCounts, counts);
            for (var i = 0; i < 36; i++) Assert.Equal(expectedSums[i], sums[i], 4);
            Assert.Equal(expectedInertia, inertia, 2);
            Assert.Equal(expectedInertia, model.Evaluate(centroids, data).LossSum, 2);
        }
    }

    [Fact]
    public void Work_Statistic_InterleavesSumAndCountPerParameter()
    {
        // Rows 0 and 1 near centroid 0, row 2 near centroid 1; two features.
        var data = Partition.CreateDense(2, [0, 0, 0], [1, 2, 3, 4, 100, 100]);
        var model = new KMeans(2, 2);
        var algorithm = new KMeansEm();
        var statistic = new float[8];

        var result = algorithm.Work(new WorkerInput(model, data, 0, 0, 1), [2, 3, 90, 90], default, default, statistic);

        Assert.Equal([4, 2, 6, 2, 100, 1, 100, 1], statistic);
        Assert.Equal(3, result.Samples);
        Assert.Equal((2.0 + 2 + 200) / 3, result.Loss, 4);
        Assert.Equal(MergeKind.Sum, algorithm.Merge);
        Assert.Equal(2, algorithm.StatisticStride);
    }

    [Fact]
    public void Update_EmptyCluster_KeepsPreviousCentroid()
    {
        var algorithm = new KMeansEm();
        // Cluster 0 (parameters 0, 1) got 4 rows summing to (8, 12); cluster 1 got none.
        float[] merged = [8, 4, 12, 4, 0, 0, 0, 0];
        var updated = new float[4];

        algorithm.Update(3, [1, 1, 7, -7], merged, new float[4], default, default, updated);

        Assert.Equal([2, 3, 7, -7], updated);
    }

    [Fact]
    public void WorkMergeUpdate_UnequalPartitions_GiveTheGlobalMean()
    {
        // One cluster: the new centroid must be the mean over all rows, not the mean of the partitions' means.
        var small = Partition.CreateDense(1, [0], [10]);
        var large = Partition.CreateDense(1, [0, 0, 0], [0, 0, 0]);
        var model = new KMeans(1, 1);
        var algorithm = new KMeansEm();
        var merge = new WeightedAverage(2, normalize: false);
        foreach (var (data, p) in new[] { (small, 0), (large, 1) })
        {
            var statistic = new float[2];
            algorithm.Work(new WorkerInput(model, data, p, 0, 1), [5], default, default, statistic);
            merge.Add(1, statistic);
        }
        var merged = new float[2];
        merge.WriteTo(merged);
        var updated = new float[1];

        algorithm.Update(0, [5], merged, [0], default, default, updated);

        Assert.Equal(2.5f, updated[0]);
    }

    [Fact]
    public void Initialize_KMeansPlusPlus_PicksDistinctRowsDeterministically()
    {
        var (dense, csr) = LinearModelTests.RandomData(200, 6, seed: 41, density: 1);
        var model = new KMeans(6, 5);
        var a = new float[30];
        var b = new float[30];
        var c = new float[30];

        model.Initialize(a, 9, dense);
        model.Initialize(b, 9, csr);
        model.Initialize(c, 10, dense);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var rows = Enumerable.Range(0, dense.Rows).Select(r => dense.DenseRow(r).ToArray()).ToList();
        for (var k = 0; k < 5; k++)
        {
            var centroid = a.AsSpan(k * 6, 6).ToArray();
            Assert.Contains(rows, row => row.SequenceEqual(centroid));
            for (var other = 0; other < k; other++) Assert.False(a.AsSpan(other * 6, 6).SequenceEqual(centroid), $"centroids {other} and {k} coincide");
        }
    }

    [Fact]
    public void Initialize_FewerDistinctRowsThanClusters_StillFillsEveryCentroid()
    {
        var data = Partition.CreateDense(2, [0, 0], [1, 1, 1, 1]);
        var model = new KMeans(2, 3);
        var centroids = new float[6];

        model.Initialize(centroids, 1, data);

        Assert.All(centroids, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void KMeansEm_WithGradientModel_IsRejectedNamingTheField()
    {
        var data = Partition.CreateDense(1, [0], [1]);
        var error = Assert.Throws<JobSpecException>(() =>
            new KMeansEm().Work(new WorkerInput(new LogisticRegression(1), data, 0, 0, 1), [0, 0], default, default, new float[4]));
        Assert.Equal("algorithm.type", error.Field);
    }
}
