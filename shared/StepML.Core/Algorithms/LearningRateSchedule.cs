using StepML.Core.Jobs;

namespace StepML.Core.Algorithms;

/// <summary>
/// The step size of round r (0-based) for the SGD-based algorithms: η_r = η·f(r). With W warm-up rounds
/// (Goyal et al., "Accurate, large minibatch SGD", 2017, §2.2: linear warm-up for the large batches that many workers
/// add up to) f(r) = (r + 1)/W for r &lt; W. Then <c>constant</c> keeps f = 1, and <c>cosine</c> (Loshchilov and Hutter,
/// "SGDR", ICLR 2017, Eq. 5 without restarts, η_min = 0) decays over the remaining rounds to stop.maxRounds R:
/// f(r) = ½(1 + cos(π·(r − W)/(R − W))). The factor depends only on the round and the job, so every worker, a retried
/// worker and a resumed run take the same step; a search trial's horizon is its own stop.maxRounds.
/// </summary>
public sealed record LearningRateSchedule(double Rate, string Kind, int WarmupRounds, long Horizon)
{
    public static LearningRateSchedule For(JobSpec job) =>
        new(job.Algorithm.LearningRate, job.Algorithm.Schedule, job.Algorithm.WarmupRounds, job.Stop.MaxRounds);

    public static LearningRateSchedule Constant(double rate) => new(rate, Schedules.Constant, 0, 1);

    public double At(long round)
    {
        if (round < WarmupRounds) return Rate * (round + 1) / WarmupRounds;
        if (Kind != Schedules.Cosine) return Rate;
        var span = Math.Max(1, Horizon - WarmupRounds);
        var t = Math.Min(1.0, (double)(round - WarmupRounds) / span);
        return Rate * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}
