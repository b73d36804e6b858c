using StepML.Storage.Ledger;

namespace StepML.Storage.Tests.Ledger;

public sealed class LocalProcessTests
{
    [Fact]
    public void IsAlive_ThisProcessNamedAgainAndAgain_AlwaysAlive()
    {
        // Linux computes a process's start time from the boot time, which jitters between readings by milliseconds;
        // a live owner must never look like a reused pid (a second execution would then take its run over).
        for (var i = 0; i < 200; i++)
            Assert.True(LocalProcess.IsAlive(LocalProcess.Current()));
    }

    [Fact]
    public void IsAlive_SamePidStartedMinutesEarlier_IsAReusedPidAndDead()
    {
        var parts = LocalProcess.Current().Split(':');
        var earlier = long.Parse(parts[2]) - TimeSpan.FromMinutes(5).Ticks;

        Assert.False(LocalProcess.IsAlive($"{parts[0]}:{parts[1]}:{earlier}"));
    }
}
