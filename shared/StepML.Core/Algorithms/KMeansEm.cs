using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Core.Algorithms;

/// <summary>
/// Distributed Lloyd iteration (the EM view of KMeans). Each worker assigns its rows to the nearest of the global
/// centroids and sends the sufficient statistics of its partition, interleaved per parameter (stride 2):
/// <c>(Σ_{r∈c} x_rj, n_c)</c> for every centroid entry (c, j). Mergers add them over workers (<see cref="MergeKind.Sum"/>,
/// so a partition weighs exactly by its rows whatever the partition sizes) and set c_j = Σ x_rj / n_c. A cluster
/// that no row chose (n_c = 0 over all partitions) keeps its previous centroid, so a round never produces an
/// undefined 0/0 and the cluster may win rows back when others move.
/// Per-worker sums are accumulated in double and sent as float32 (counts are exact below 2^24 rows per partition).
/// </summary>
public sealed class KMeansEm : IAlgorithm
{
    public string Type => AlgorithmTypes.KMeansEm;
    public int WorkerStateLength(int parameters, int rows) => 0;
    public int OptimizerStateStride => 0;
    public MergeKind Merge => MergeKind.Sum;
    public int StatisticStride => 2;

    public WorkerResult Work(WorkerInput input, ReadOnlySpan<float> globalModel, ReadOnlySpan<float> previousState, Span<float> newState, Span<float> statistic)
    {
        var model = input.Model as KMeans
            ?? throw new JobSpecException("algorithm.type", $"'kmeans-em' trains only model.type \"kmeans\", not '{input.Model.Type}'");
        var n = model.ParameterCount;
        if (statistic.Length != 2 * n) throw new ArgumentException($"the statistic needs {2 * n} values (stride 2), got {statistic.Length}");
        var sums = new double[n];
        var counts = new double[model.Clusters];
        var inertia = model.Accumulate(globalModel, input.Data, sums, counts);
        var d = model.Features;
        for (var c = 0; c < model.Clusters; c++)
        {
            var count = (float)counts[c];
            for (var j = 0; j < d; j++)
            {
                var i = c * d + j;
                statistic[2 * i] = (float)sums[i];
                statistic[2 * i + 1] = count;
            }
        }
        var rows = input.Data.Rows;
        return new WorkerResult(rows, rows == 0 ? 0 : inertia / rows);
    }

    public void Update(long round, ReadOnlySpan<float> model, ReadOnlySpan<float> merged, ReadOnlySpan<float> mask, ReadOnlySpan<float> previousOptimizer, Span<float> newOptimizer, Span<float> newModel)
    {
        for (var i = 0; i < model.Length; i++)
        {
            var count = merged[2 * i + 1];
            newModel[i] = count > 0 ? merged[2 * i] / count : model[i];
        }
    }
}
