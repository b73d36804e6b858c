using System.Diagnostics;
using StepML.Core.Algorithms;
using StepML.Core.Communication;
using StepML.Core.Tensors;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// One merger of tree aggregation (<c>communication.pattern: "tree"</c>, <see cref="TreePlan"/>). A level-0 merger
/// reads the statistics of its f partitions (after the simulated drops), a higher one the partial results of its f
/// children, each in index order. Below the root it writes the partial result to
/// <c>rounds/&lt;r&gt;/tree/&lt;level&gt;/&lt;group&gt;.tensor</c>: the children's weighted average (their sum for
/// summed statistics) followed by three scalars, the total weight, the statistics merged and those dropped. The root
/// (the last level's one merger) turns the combined result into the update, exactly as an AllReduce merger does,
/// and writes merged shard 0. Statistics and partial results travel through storage, never through the state.
/// </summary>
public static class TreeMergeStep
{
    private const int Trailer = 3;

    public static async Task<MergeOutput> RunAsync(FunctionContext context, MergeInput input)
    {
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var setup = await RunSetup.LoadAsync(context, input.RunId).ConfigureAwait(false);
        var (job, model, algorithm, _) = setup;
        var fanIn = job.Communication.FanIn;
        if (job.Communication.Pattern != Core.Jobs.Patterns.Tree)
            throw new InvalidInputException($"Merge: run '{input.RunId}' uses communication.pattern '{job.Communication.Pattern}', not \"tree\"; its mergers take no 'level'");
        var sizes = TreePlan.LevelSizes(job.Dataset.Partitions, fanIn);
        var level = input.Level!.Value;
        var group = input.Group ?? -1;
        if (level < 0 || level >= sizes.Length || group < 0 || group >= sizes[level])
            throw new InvalidInputException($"Merge: tree level {level} group {group} does not exist; run '{input.RunId}' has levels of [{string.Join(", ", sizes)}] mergers");

        var width = model.ParameterCount * algorithm.StatisticStride;
        var sum = new WeightedAverage(width, normalize: algorithm.Merge == MergeKind.WeightedAverage);
        double weight = 0;
        long contributors = 0, dropped = 0;
        double[]? dual = null;
        if (level == 0)
        {
            var (first, count) = TreePlan.Children(group, fanIn, job.Dataset.Partitions);
            var mine = input.Workers?.Where(w => w.Partition is { } p && p >= first && p < first + count);
            var (produced, arrived) = MergeStep.Arrivals(input, job, mine, merger: 0);
            foreach (var worker in arrived)
            {
                var statistic = await TensorIo.ReadAsync(context.Channel(job), RunLayout.Statistic(input.RunId, input.Round, worker.Partition!.Value), width).ConfigureAwait(false);
                var w = MergeStep.MergeWeight(algorithm, worker.Samples);
                sum.Add(w, statistic);
                weight += w;
            }
            contributors = arrived.Count;
            dropped = produced.Count - arrived.Count;
        }
        else
        {
            var (first, count) = TreePlan.Children(group, fanIn, sizes[level - 1]);
            for (var child = first; child < first + count; child++)
            {
                var partial = await TensorIo.ReadAsync(store, RunLayout.TreePartial(input.RunId, input.Round, level - 1, child), width + Trailer).ConfigureAwait(false);
                double childWeight = partial[width];
                contributors += (long)partial[width + 1];
                dropped += (long)partial[width + 2];
                if (childWeight <= 0) continue; // every statistic below this child was lost
                // A summed child already holds Σ s_i: it enters with weight 1, like a worker's statistic.
                sum.Add(algorithm.Merge == MergeKind.WeightedAverage ? childWeight : 1, partial.AsSpan(0, width));
                weight += childWeight;
            }
        }

        if (level == sizes.Length - 1)
        {
            if (contributors + dropped == 0)
                throw new NoStatisticsException(input.RunId, input.Round);
            float[]? merged = null;
            if (sum.Contributors > 0)
            {
                merged = new float[width];
                sum.WriteTo(merged);
            }
            dual = await MergeStep.ApplyAsync(context, setup, input.RunId, input.Round, shard: 0, merged).ConfigureAwait(false);
        }
        else
        {
            var partial = new float[width + Trailer];
            if (sum.Contributors > 0) sum.WriteTo(partial.AsSpan(0, width));
            partial[width] = (float)weight;
            partial[width + 1] = contributors;
            partial[width + 2] = dropped;
            await TensorIo.WriteAsync(store, RunLayout.TreePartial(input.RunId, input.Round, level, group), partial, input.Round, TensorCodec.MaxBlockElements, PutOptions.Statistic).ConfigureAwait(false);
        }
        return new MergeOutput { Shard = group, Level = level, Contributors = (int)contributors, Dropped = (int)dropped, Seconds = clock.Elapsed.TotalSeconds, Dual = dual };
    }
}
