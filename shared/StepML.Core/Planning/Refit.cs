namespace StepML.Core.Planning;

/// <summary>One finished round as its record tells it: workers and their summed seconds, the mergers' and Decide's
/// seconds, and the round's wall time (between two Decides).</summary>
public sealed record ObservedRound(int Workers, double WorkerSeconds, int Mergers, double MergeSeconds, double DecideSeconds, double WallSeconds);

/// <summary>
/// Refits the cloud constants from a finished run (<c>stepml plan --from RUN</c>), so a user's first cloud run
/// sharpens every later plan: <see cref="CloudConstants.ComputeScale"/> from the workers' measured seconds against
/// the calibrated prediction, <see cref="CloudConstants.RoundOverheadSeconds"/> from what a round's wall time holds
/// besides its functions, <see cref="CloudConstants.ColdStartSeconds"/> from the first round's excess.
/// </summary>
public static class Refit
{
    /// <param name="predictedWorkerCompute">The calibrated compute of one of the run's workers at scale 1.</param>
    /// <param name="predictedWorkerIo">The model's communication for one of the run's workers.</param>
    public static CloudConstants From(CloudConstants constants, IReadOnlyList<ObservedRound> rounds, double predictedWorkerCompute, double predictedWorkerIo)
    {
        if (rounds.Count == 0) throw new ArgumentException("the run has no finished rounds to refit from", nameof(rounds));
        var steady = rounds.Count > 1 ? rounds.Skip(1).ToList() : [.. rounds];
        var worker = Median(steady.Select(r => r.WorkerSeconds / Math.Max(1, r.Workers)));
        var scale = predictedWorkerCompute > 0 ? Math.Max(worker - predictedWorkerIo, worker * 0.1) / predictedWorkerCompute : constants.ComputeScale;
        // The slowest worker is not recorded apart from the sum: the mean stands for it.
        var overhead = Median(steady.Select(r => r.WallSeconds - r.WorkerSeconds / Math.Max(1, r.Workers) - r.MergeSeconds / Math.Max(1, r.Mergers) - r.DecideSeconds));
        var cold = rounds.Count > 1 ? rounds[0].WallSeconds - Median(steady.Select(r => r.WallSeconds)) : constants.ColdStartSeconds;
        return constants with
        {
            ComputeScale = scale,
            RoundOverheadSeconds = Math.Max(0, overhead),
            ColdStartSeconds = Math.Max(0, cold),
        };
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
