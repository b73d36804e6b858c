using System.Diagnostics;
using System.Globalization;

namespace StepML.Storage.Ledger;

/// <summary>Names a local process as <c>host:pid:startTicks</c> and tells whether it still runs (the start time
/// guards against a reused pid). Only local runs record a process; a Lambda's pid means nothing.</summary>
public static class LocalProcess
{
    public static string Current()
    {
        using var self = Process.GetCurrentProcess();
        return $"{Environment.MachineName}:{self.Id}:{self.StartTime.ToUniversalTime().Ticks}";
    }

    /// <summary>False only when the process is on this host and provably gone (no such pid, or a pid reused by a
    /// process that started at another time); a process on another host counts as alive.</summary>
    public static bool IsAlive(string process)
    {
        var parts = process.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            // Linux derives a start time from the boot time and clock ticks since boot; two readings of the same
            // process can differ by milliseconds, so a pid counts as reused only when its start is a second off.
            return !p.HasExited && Math.Abs(p.StartTime.ToUniversalTime().Ticks - ticks) <= TimeSpan.TicksPerSecond;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static string Describe(string process)
    {
        var parts = process.Split(':');
        return parts.Length == 3 ? $"pid {parts[1]} on {parts[0]}" : process;
    }
}
