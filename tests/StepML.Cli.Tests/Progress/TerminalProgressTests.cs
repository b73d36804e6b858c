using StepML.Cli.Progress;

namespace StepML.Cli.Tests.Progress;

public sealed class TerminalProgressTests
{
    [Fact]
    public void Advance_NotATerminal_WritesNothing()
    {
        var output = new StringWriter();
        using (var progress = new TerminalProgress("partitioning", 1000, enabled: false, output))
            progress.Advance(500);

        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void Advance_OnATerminal_RewritesOneLineWithPercentThenClearsIt()
    {
        var output = new StringWriter();
        using (var progress = new TerminalProgress("partitioning", 4_000_000, enabled: true, output))
            progress.Advance(1_000_000);

        var text = output.ToString();
        Assert.StartsWith("\rpartitioning: 1.0 MB of 4.0  25.0%", text);
        Assert.DoesNotContain('\n', text);
        Assert.EndsWith("\r", text);
    }

    [Fact]
    public void ProgressStream_Read_CountsEveryByte()
    {
        var output = new StringWriter();
        var progress = new TerminalProgress("x", 10, enabled: false, output);
        using var stream = new ProgressStream(new MemoryStream(new byte[10]), progress);

        var read = stream.Read(new byte[16], 0, 16);

        Assert.Equal(10, read);
        Assert.Equal("x: 0.0 MB of 0.0 100.0%  0 MB/s", progress.Line(10, 0));
    }
}
