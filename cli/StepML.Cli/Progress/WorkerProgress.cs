using StepML.Local;

namespace StepML.Cli.Progress;

/// <summary>On a terminal, "round 7: 5 of 8 workers done" rewritten in place as each worker of the round returns;
/// <see cref="RoundCompleted"/> clears it before the round's own line. Off a terminal it is never installed, so
/// redirected output keeps one line per round.</summary>
internal sealed class WorkerProgress
{
    private readonly object _gate = new();
    private int _done, _total;
    private long _round;
    private bool _drawn;

    public void Prepared(int partitions)
    {
        lock (_gate) _total = partitions;
    }

    public void RoundCompleted(long nextRound)
    {
        lock (_gate)
        {
            (_done, _round) = (0, nextRound);
            if (_drawn) Console.Write("\r" + new string(' ', 48) + "\r");
            _drawn = false;
        }
    }

    private void WorkerDone()
    {
        lock (_gate)
        {
            _done++;
            Console.Write($"\rround {_round,4}: {_done} of {_total} workers done   ");
            _drawn = true;
        }
    }

    public IFunctionInvoker Wrap(IFunctionInvoker inner) => new Invoker(inner, this);

    private sealed class Invoker(IFunctionInvoker inner, WorkerProgress progress) : IFunctionInvoker
    {
        public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            var output = await inner.InvokeAsync(functionName, payload, ct).ConfigureAwait(false);
            if (functionName.EndsWith("-Worker", StringComparison.Ordinal)) progress.WorkerDone();
            return output;
        }
    }
}
