using System.Diagnostics;

namespace StepML.Cli.Bench;

internal static class Measure
{
    /// <summary>Runs <paramref name="action"/> once to warm up (JIT tiers, page faults, caches), then
    /// <paramref name="repetitions"/> times, and returns the fastest wall time in seconds: on a shared machine the
    /// minimum is the run least disturbed by other processes.</summary>
    public static double BestSeconds(int repetitions, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        action();
        var best = double.PositiveInfinity;
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Best-of-N of two actions run alternately (after one warm-up each), for a ratio of the two.</summary>
    public static (double First, double Second) BestSecondsInterleaved(int repetitions, Action first, Action second)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        first();
        second();
        double bestFirst = double.PositiveInfinity, bestSecond = double.PositiveInfinity;
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            first();
            bestFirst = Math.Min(bestFirst, clock.Elapsed.TotalSeconds);
            clock.Restart();
            second();
            bestSecond = Math.Min(bestSecond, clock.Elapsed.TotalSeconds);
        }
        return (bestFirst, bestSecond);
    }

    public static async Task<double> BestSecondsAsync(int repetitions, Func<Task> action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        await action().ConfigureAwait(false);
        var best = double.PositiveInfinity;
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            await action().ConfigureAwait(false);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Rounds for the JSON document: enough digits for ratios, no float noise.</summary>
    public static double Round(double value, int digits = 4) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
