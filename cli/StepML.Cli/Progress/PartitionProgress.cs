using System.Diagnostics;
using StepML.Functions;
using StepML.Local;

namespace StepML.Cli.Progress;

/// <summary>
/// The Partition and Assemble Maps as they run: "partitioning: 12 of 64 ranges, 3,412,000 rows, 71,000 rows/s", then
/// "assembling: 5 of 17 outputs", rewritten in place on a terminal as each task returns. Off a terminal it is never
/// installed (the run's own lines stay one per event); <see cref="Finished"/> clears the line before the next one.
/// </summary>
internal sealed class PartitionProgress(TextWriter? output = null)
{
    private readonly object _gate = new();
    private readonly Stopwatch _clock = new();
    private readonly TextWriter _output = output ?? Console.Out;
    private int _ranges, _rangesDone, _outputs, _outputsDone;
    private long _rows;
    private int _width;

    /// <summary>Prepare planned <paramref name="plan"/>: the counts the line shows.</summary>
    public void Planned(PartitioningState plan)
    {
        lock (_gate)
        {
            (_ranges, _outputs, _rangesDone, _outputsDone, _rows) = (plan.Ranges.Length, plan.Outputs.Length, 0, 0, 0);
            _clock.Restart();
        }
    }

    /// <summary>Clears the in-place line (the set is committed, or the run ended).</summary>
    public void Finished()
    {
        lock (_gate)
        {
            if (_width > 0) _output.Write("\r" + new string(' ', _width) + "\r");
            _width = 0;
        }
    }

    /// <summary>Counts one finished Partition task from its output.</summary>
    internal void Done(PartitionOutput result)
    {
        lock (_gate)
        {
            if (result.Range is not null)
            {
                _rangesDone++;
                _rows += result.Rows;
            }
            else if (result.Output is not null) _outputsDone++;
            else return;
            var line = Line(_clock.Elapsed.TotalSeconds);
            _output.Write("\r" + line + "   ");
            _width = Math.Max(_width, line.Length + 3);
        }
    }

    internal string Line(double seconds) => _outputsDone == 0
        ? $"partitioning: {_rangesDone} of {_ranges} ranges, {_rows:N0} rows, {(seconds > 0 ? _rows / seconds : 0):N0} rows/s"
        : $"assembling: {_outputsDone} of {_outputs} outputs ({_outputs - 1} partitions and validation)";

    public IFunctionInvoker Wrap(IFunctionInvoker inner) => new Invoker(inner, this);

    private sealed class Invoker(IFunctionInvoker inner, PartitionProgress progress) : IFunctionInvoker
    {
        public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            var output = await inner.InvokeAsync(functionName, payload, ct).ConfigureAwait(false);
            if (!functionName.EndsWith("-Partition", StringComparison.Ordinal)) return output;
            // The engine reads the output after this: buffer it, read the counts, hand on a fresh copy.
            var buffer = new MemoryStream();
            await output.CopyToAsync(buffer, ct).ConfigureAwait(false);
            await output.DisposeAsync().ConfigureAwait(false);
            if (System.Text.Json.JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), ContractJson.Default.PartitionOutput) is { } result)
                progress.Done(result);
            buffer.Position = 0;
            return buffer;
        }
    }
}
