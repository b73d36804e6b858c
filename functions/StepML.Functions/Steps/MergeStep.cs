using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Communication;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// One merger (ScatterReduce shard; AllReduce is the one-shard case): reads its byte range of every contributing
/// worker's statistic with one ranged read each, forms the sample-weighted average in partition order, applies the
/// algorithm's elementwise update to its shard of the model, and writes the new shard. With
/// <c>communication.dropRate</c> &gt; 0 each statistic is lost with that probability (seeded per round, partition and
/// shard): the merger averages what arrived and keeps its shard unchanged when nothing did. Inputs with a tree
/// level go to <see cref="TreeMergeStep"/>.
/// </summary>
public static class MergeStep
{
    public static async Task<MergeOutput> RunAsync(FunctionContext context, MergeInput input)
    {
        if (input.Level is not null) return await TreeMergeStep.RunAsync(context, input).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var setup = await RunSetup.LoadAsync(context, input.RunId).ConfigureAwait(false);
        var (job, _, algorithm, layout) = setup;
        var channel = context.Channel(job);
        if (input.Shard < 0 || input.Shard >= layout.Shards)
            throw new InvalidInputException($"Merge: shard {input.Shard} does not exist; run '{input.RunId}' has {layout.Shards}");
        var (_, length) = layout.ElementRange(input.Shard);
        var len = (int)length;

        var (contributors, arrived) = Arrivals(input, job, input.Workers, input.Shard);
        if (contributors.Count == 0)
            throw new NoStatisticsException(input.RunId, input.Round);
        float[]? merged = null;
        if (arrived.Count > 0)
        {
            // A statistic with k values per parameter is blocked k-fold wider, so its blocks line up with the model's.
            var k = algorithm.StatisticStride;
            var statLayout = layout with { Elements = layout.Elements * k, BlockElements = layout.BlockElements * k };
            var average = new WeightedAverage(len * k, normalize: algorithm.Merge == MergeKind.WeightedAverage);
            var slice = new float[len * k];
            foreach (var worker in arrived)
            {
                await TensorIo.ReadShardAsync(channel, RunLayout.Statistic(input.RunId, input.Round, worker.Partition!.Value), statLayout, input.Shard, slice).ConfigureAwait(false);
                average.Add(MergeWeight(algorithm, worker.Samples), slice);
            }
            merged = new float[len * k];
            average.WriteTo(merged);
        }
        var dual = await ApplyAsync(context, setup, input.RunId, input.Round, input.Shard, merged).ConfigureAwait(false);
        return new MergeOutput { Shard = input.Shard, Contributors = arrived.Count, Dropped = contributors.Count - arrived.Count, Seconds = clock.Elapsed.TotalSeconds, Dual = dual };
    }

    /// <summary>The workers that produced a statistic, in partition order (the sum's rounding then does not depend
    /// on who finished first), and those of them whose message to <paramref name="merger"/> was not dropped.</summary>
    internal static (List<WorkerOutput> Contributors, List<WorkerOutput> Arrived) Arrivals(MergeInput input, JobSpec job, IEnumerable<WorkerOutput>? workers, int merger)
    {
        if (workers is null)
            throw new InvalidInputException("Merge: 'workers' is null; expected the Workers map's results");
        var contributors = workers.Where(w => w.Partition is not null && w.Samples > 0).OrderBy(w => w.Partition).ToList();
        var arrived = contributors.Where(w => !MessageDrops.IsDropped(job.Communication.DropRate, job.Seed, input.Round, w.Partition!.Value, merger)).ToList();
        return (contributors, arrived);
    }

    /// <summary>Sample weights for averaged statistics; 1 for summed ones (KMeans' sufficient statistics).</summary>
    internal static double MergeWeight(IAlgorithm algorithm, long samples) => algorithm.Merge == MergeKind.WeightedAverage ? samples : 1;

    /// <summary>Applies the algorithm's update to one shard with the merged statistic and writes the new shard and
    /// its optimizer state; with <paramref name="merged"/> null (nothing arrived) both stay as they were.</summary>
    /// <returns>The shard's part of the duality certificate, for algorithms that give one.</returns>
    internal static async Task<double[]?> ApplyAsync(FunctionContext context, RunSetup setup, string runId, long round, int shard, float[]? merged)
    {
        var store = context.Store;
        var (_, model, algorithm, layout) = setup;
        var (start, length) = layout.ElementRange(shard);
        var len = (int)length;
        var current = new float[len];
        await TensorIo.ReadShardAsync(store, RunLayout.Model(runId, round), layout, shard, current).ConfigureAwait(false);
        var stride = algorithm.OptimizerStateStride;
        var previousOptimizer = stride > 0 && round > 0
            ? await TensorIo.ReadAsync(store, RunLayout.Optimizer(runId, round - 1, shard), (long)len * stride).ConfigureAwait(false)
            : new float[len * stride];
        var optimizer = new float[len * stride];
        var updated = new float[len];
        double[]? dual = null;
        if (merged is null)
        {
            current.CopyTo(updated, 0);
            previousOptimizer.CopyTo(optimizer, 0);
        }
        else
        {
            var mask = new float[model.ParameterCount];
            model.RegularizationMask(mask);
            algorithm.Update(round, current, merged, mask.AsSpan((int)start, len), previousOptimizer, optimizer, updated);
            if (ModelState.Any(model, out var state))
                ModelState.Apply(state.AsSpan((int)start, len), merged, updated, optimizer, stride);
            dual = algorithm.Certify(merged, mask.AsSpan((int)start, len))?.ToArray();
        }
        await TensorIo.WriteAsync(context.Channel(setup.Job), RunLayout.Merged(runId, round, shard), updated, round, layout.BlockElements).ConfigureAwait(false);
        if (stride > 0)
            await TensorIo.WriteAsync(store, RunLayout.Optimizer(runId, round, shard), optimizer, round, layout.BlockElements * stride).ConfigureAwait(false);
        return dual;
    }
}

/// <summary>Every worker of the round failed (within the tolerated percentage), so there is nothing to merge.</summary>
public sealed class NoStatisticsException(string runId, long round)
    : Exception($"run '{runId}' round {round}: no worker produced a statistic; see the Workers map's failed iterations");
