using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StepML.Cli.Bench;

/// <summary>One timing: wall-clock seconds, and the measuring thread's CPU seconds where the OS gives them (Linux).
/// On a shared machine a thread waits for a core for part of its wall time; its CPU time leaves that wait out while
/// still counting the time it stalls on memory, so it is the figure the throughputs are computed from.</summary>
internal readonly record struct Timing(double WallSeconds, double CpuSeconds)
{
    /// <summary>CPU seconds when the thread clock exists, else wall seconds.</summary>
    public double Seconds => Measure.HasThreadClock ? CpuSeconds : WallSeconds;

    public static Timing Min(Timing a, Timing b) => new(Math.Min(a.WallSeconds, b.WallSeconds), Math.Min(a.CpuSeconds, b.CpuSeconds));

    public static readonly Timing Infinite = new(double.PositiveInfinity, double.PositiveInfinity);
}

internal static class Measure
{
    /// <summary>"thread-cpu" when throughputs come from the thread's CPU time, "wall" otherwise.</summary>
    public static string ClockName => HasThreadClock ? "thread-cpu" : "wall";

    public static bool HasThreadClock { get; } = OperatingSystem.IsLinux() && TryThreadCpuSeconds(out _);

    /// <summary>Runs <paramref name="action"/> once to warm up (JIT, page faults, caches), then
    /// <paramref name="repetitions"/> times, and returns the fastest run: on a shared machine the minimum is the run
    /// least disturbed by other processes.</summary>
    public static Timing Best(int repetitions, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        action();
        var best = Timing.Infinite;
        for (var i = 0; i < repetitions; i++) best = Timing.Min(best, Time(action));
        return best;
    }

    /// <summary>Best-of-N of two actions run alternately (after one warm-up each), so both sides of a ratio see the
    /// same machine load.</summary>
    public static (Timing First, Timing Second) BestInterleaved(int repetitions, Action first, Action second)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        first();
        second();
        Timing bestFirst = Timing.Infinite, bestSecond = Timing.Infinite;
        for (var i = 0; i < repetitions; i++)
        {
            bestFirst = Timing.Min(bestFirst, Time(first));
            bestSecond = Timing.Min(bestSecond, Time(second));
        }
        return (bestFirst, bestSecond);
    }

    /// <summary>Wall-clock best-of-N for work that spans threads (the engine), where one thread's CPU time means nothing.</summary>
    public static async Task<double> BestWallSecondsAsync(int repetitions, Func<Task> action)
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

    private static Timing Time(Action action)
    {
        var cpu = ThreadCpuSeconds();
        var clock = Stopwatch.StartNew();
        action();
        var wall = clock.Elapsed.TotalSeconds;
        return new Timing(wall, HasThreadClock ? ThreadCpuSeconds() - cpu : wall);
    }

    /// <summary>Rounds for the JSON document: enough digits for ratios, no float noise.</summary>
    public static double Round(double value, int digits = 4) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    private static double ThreadCpuSeconds() => HasThreadClock && TryThreadCpuSeconds(out var s) ? s : 0;

    private static bool TryThreadCpuSeconds(out double seconds)
    {
        seconds = 0;
        try
        {
            if (ClockGetTime(ClockThreadCpuTime, out var ts) != 0) return false;
            seconds = ts.Seconds + ts.Nanoseconds * 1e-9;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
