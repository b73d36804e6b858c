using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Training;

namespace StepML.Core.Tests.Algorithms;

/// <summary>The rounds of the state machine in process for the weighted-average algorithms: Work per partition (with its
/// worker state from the previous round), the weighted merge in partition order, the certificate when the algorithm gives one, Update.</summary>
internal static class InProcessRounds
{
    public sealed record Round(float[] Model, double Primal, DualityGap.Certificate? Certificate);

    public static List<Round> Train(IAlgorithm algorithm, IModel model, Partition[] parts, double l2, int rounds) =>
        Train(algorithm, model, parts, l2, rounds, out _);

    /// <summary>Each round's starting model, primal and certificate; <paramref name="final"/> is the model after the last.</summary>
    public static List<Round> Train(IAlgorithm algorithm, IModel model, Partition[] parts, double l2, int rounds, out float[] final)
    {
        const ulong seed = 1;
        var n = model.ParameterCount;
        var stride = algorithm.StatisticStride;
        var w = new float[n];
        var mask = new float[n];
        model.RegularizationMask(mask);
        var states = new float[parts.Length][];
        var optimizer = new float[n * algorithm.OptimizerStateStride];
        var history = new List<Round>();
        for (var round = 0; round < rounds; round++)
        {
            var merge = new WeightedAverage(n * stride);
            double samples = 0, cp = 0, cn = 0, loss = 0;
            for (var p = 0; p < parts.Length; p++)
            {
                var statistic = new float[n * stride];
                var state = new float[algorithm.WorkerStateLength(n, parts[p].Rows)];
                var result = algorithm.Work(new WorkerInput(model, parts[p], p, round, seed), w, states[p] ?? [], state, statistic);
                states[p] = state;
                merge.Add(result.Samples, statistic);
                samples += result.Samples;
                loss += result.Samples * result.Loss;
                cp += result.Samples * (result.Conjugates?.Positive ?? 0);
                cn += result.Samples * (result.Conjugates?.Negative ?? 0);
            }
            var merged = new float[n * stride];
            merge.WriteTo(merged);
            var primal = loss / samples + Core.Models.Models.Regularization(w, mask, l2);
            var certificate = algorithm.Certify(merged, mask) is { } products
                ? new DualityGap.Certificate(primal, DualityGap.DualBound(cp / samples, cn / samples, products, l2))
                : null;
            history.Add(new Round(w, primal, certificate));
            var next = new float[n];
            var nextOptimizer = new float[optimizer.Length];
            algorithm.Update(round, w, merged, mask, optimizer, nextOptimizer, next);
            optimizer = nextOptimizer;
            w = next;
        }
        final = w;
        return history;
    }
}
