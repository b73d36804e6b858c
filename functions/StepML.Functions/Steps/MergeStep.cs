using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// One merger (ScatterReduce shard; AllReduce is the one-shard case): reads its byte range of every contributing
/// worker's statistic with one ranged read each, forms the sample-weighted average in partition order, applies the
/// algorithm's elementwise update to its shard of the model, and writes the new shard.
/// </summary>
public static class MergeStep
{
    public static async Task<MergeOutput> RunAsync(FunctionContext context, MergeInput input)
    {
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var (job, model, algorithm, layout) = await RunSetup.LoadAsync(context, input.RunId).ConfigureAwait(false);
        var channel = context.Channel(job);
        var n = model.ParameterCount;
        if (input.Shard < 0 || input.Shard >= layout.Shards)
            throw new InvalidInputException($"Merge: shard {input.Shard} does not exist; run '{input.RunId}' has {layout.Shards}");
        var (start, length) = layout.ElementRange(input.Shard);
        var len = (int)length;

        if (input.Workers is null)
            throw new InvalidInputException("Merge: 'workers' is null; expected the Workers map's results");
        // Contributors in partition order: the sum's rounding does not depend on who finished first.
        var contributors = input.Workers.Where(w => w.Partition is not null && w.Samples > 0).OrderBy(w => w.Partition).ToList();
        if (contributors.Count == 0)
            throw new NoStatisticsException(input.RunId, input.Round);
        // A statistic with k values per parameter is blocked k-fold wider, so its blocks line up with the model's.
        var k = algorithm.StatisticStride;
        var statLayout = layout with { Elements = layout.Elements * k, BlockElements = layout.BlockElements * k };
        var average = new WeightedAverage(len * k, normalize: algorithm.Merge == MergeKind.WeightedAverage);
        var slice = new float[len * k];
        foreach (var worker in contributors)
        {
            await TensorIo.ReadShardAsync(channel, RunLayout.Statistic(input.RunId, input.Round, worker.Partition!.Value), statLayout, input.Shard, slice).ConfigureAwait(false);
            average.Add(algorithm.Merge == MergeKind.WeightedAverage ? worker.Samples : 1, slice);
        }
        var merged = new float[len * k];
        average.WriteTo(merged);

        var current = new float[len];
        await TensorIo.ReadShardAsync(store, RunLayout.Model(input.RunId, input.Round), layout, input.Shard, current).ConfigureAwait(false);
        var mask = new float[n];
        model.RegularizationMask(mask);

        var stride = algorithm.OptimizerStateStride;
        var previousOptimizer = stride > 0 && input.Round > 0
            ? await TensorIo.ReadAsync(store, RunLayout.Optimizer(input.RunId, input.Round - 1, input.Shard), (long)len * stride).ConfigureAwait(false)
            : new float[len * stride];
        var optimizer = new float[len * stride];
        var updated = new float[len];
        algorithm.Update(input.Round, current, merged, mask.AsSpan((int)start, len), previousOptimizer, optimizer, updated);
        var dual = algorithm.Certify(merged, mask.AsSpan((int)start, len));

        await TensorIo.WriteAsync(channel, RunLayout.Merged(input.RunId, input.Round, input.Shard), updated, input.Round, layout.BlockElements).ConfigureAwait(false);
        if (stride > 0)
            await TensorIo.WriteAsync(store, RunLayout.Optimizer(input.RunId, input.Round, input.Shard), optimizer, input.Round, layout.BlockElements * stride).ConfigureAwait(false);
        return new MergeOutput { Shard = input.Shard, Contributors = contributors.Count, Seconds = clock.Elapsed.TotalSeconds, Dual = dual?.ToArray() };
    }
}

/// <summary>Every worker of the round failed (within the tolerated percentage), so there is nothing to merge.</summary>
public sealed class NoStatisticsException(string runId, long round)
    : Exception($"run '{runId}' round {round}: no worker produced a statistic; see the Workers map's failed iterations");
