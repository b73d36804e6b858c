using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Function calls under their time quotas. A call has up to three limits, all scaled by LimitTimeScale:
// the Task's TimeoutSeconds (States.Timeout), its HeartbeatSeconds (States.HeartbeatTimeout: local functions have
// no task token, so they never send a heartbeat and the limit is the time to their result), and the function's own
// configured timeout (Lambda ends the invocation: the function error Sandbox.Timedout, which Retry/Catch match as
// a task failure, not as States.Timeout). The first to expire wins; on a tie the Task's own limit reports.
internal sealed partial class ExecutionRunner
{
    private readonly record struct CallLimit(double Seconds, string Error, string Cause);

    private CallLimit? Limits(string function, int? timeout, int? heartbeat)
    {
        CallLimit? first = null;
        void Consider(int? seconds, string error, string cause)
        {
            if (seconds is { } s && (first is null || s < first.Value.Seconds)) first = new CallLimit(s, error, cause);
        }
        Consider(timeout, ErrorNames.Timeout, $"Task timed out after {timeout} seconds (TimeoutSeconds; function '{function}')");
        Consider(heartbeat, ErrorNames.HeartbeatTimeout, $"Task sent no heartbeat for {heartbeat} seconds (HeartbeatSeconds; function '{function}')");
        if (_engine.Options.Functions.TryGetValue(function, out var configured))
        {
            var cause = new JsonObject
            {
                ["errorType"] = ErrorNames.FunctionTimedOut,
                ["errorMessage"] = $"Task timed out after {configured.TimeoutSeconds.ToString("0.00", CultureInfo.InvariantCulture)} seconds (the timeout of function '{function}')",
            }.ToJsonString();
            Consider(configured.TimeoutSeconds, ErrorNames.FunctionTimedOut, cause);
        }
        return first;
    }

    // Calls the function; an exception becomes Error = type short name, Cause = {"errorType","errorMessage"}.
    private async Task<(JsonNode? Node, string Json)> InvokeAsync(string function, byte[] payload, CallLimit? limit, CancellationToken ct)
    {
        Stream response;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var call = Task.Run(() => _engine.Functions.InvokeAsync(function, new MemoryStream(payload, writable: false), cts.Token));
            var timer = limit is { } l
                ? Task.Delay(TimeSpan.FromSeconds(l.Seconds * _limitScale), _time, cts.Token)
                : Task.Delay(Timeout.Infinite, cts.Token);
            if (await Task.WhenAny(call, timer).ConfigureAwait(false) != call)
            {
                if (_abort.IsCancellationRequested)
                {
                    // Stopped by the user: the function sees its token cancelled and ends before the execution does.
                    try { await call.ConfigureAwait(false); }
                    catch (Exception) when (call.IsFaulted || call.IsCanceled) { }
                    _abort.Token.ThrowIfCancellationRequested();
                }
                // Timed out, or an EXPRESS child's limit passed: the call is abandoned, as Lambda keeps running an
                // invocation whose caller has gone.
                _ = call.ContinueWith(static c => c.Exception, TaskScheduler.Default);
                ct.ThrowIfCancellationRequested();
                cts.Cancel();
                throw new StatesError(limit!.Value.Error, limit.Value.Cause);
            }
            cts.Cancel();
            response = await call.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not StatesError && !(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            // A host that calls handlers through reflection or .Result wraps the handler's exception; the Error is the handler's.
            while (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
            if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
            if (e is StatesError states) throw states;
            var type = e.GetType().Name;
            throw new StatesError(type, new JsonObject { ["errorType"] = type, ["errorMessage"] = e.Message }.ToJsonString());
        }
        byte[] bytes;
        await using (response.ConfigureAwait(false))
        {
            if (response is MemoryStream ms && ms.TryGetBuffer(out var segment) && ms.Position == 0) bytes = segment.ToArray();
            else
            {
                using var copy = new MemoryStream();
                await response.CopyToAsync(copy).ConfigureAwait(false);
                bytes = copy.ToArray();
            }
        }
        if (bytes.Length == 0) return (null, "null");
        if (bytes.Length > MaxPayloadBytes)
            throw new StatesError(ErrorNames.DataLimitExceeded,
                $"Function '{function}' returned {bytes.Length} bytes, above the {MaxPayloadBytes}-byte (256 KiB) Step Functions payload quota; return S3 keys instead of data");
        try { return (JsonNode.Parse(bytes), Encoding.UTF8.GetString(bytes)); }
        catch (JsonException e)
        {
            throw new StatesError(ErrorNames.Runtime, $"Function '{function}' returned a response that is not JSON: {e.Message}");
        }
    }
}
