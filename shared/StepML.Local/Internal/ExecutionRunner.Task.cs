using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Task states (Lambda functions, lambda:invoke, startExecution) and function calls under their time quotas.
// A call has up to three limits, all scaled by LimitTimeScale: the Task's TimeoutSeconds (States.Timeout), its
// HeartbeatSeconds (States.HeartbeatTimeout: local functions have no task token, so they never send a heartbeat and
// the limit is the time to their result), and the function's own configured timeout (Lambda ends the invocation:
// the function error Sandbox.Timedout, which Retry/Catch match as a task failure, not as States.Timeout). The first
// to expire wins; on a tie the Task's own limit reports.
internal sealed partial class ExecutionRunner
{
    // ---- Task ------------------------------------------------------------------------------------------

    private async Task<JsonNode?> RunTaskAsync(TaskState t, JsonNode? effective, StateScope scope, Chain chain, CancellationToken ct, bool ownsSlot)
    {
        var parameters = t.Parameters is { } p ? p.Build(effective, scope) : effective;
        CheckPayloadSize(JsonNodes.ToJson(parameters), $"The input of state '{t.Name}' after Parameters processing has a size exceeding the maximum number of bytes service limit");
        int? timeout = t.TimeoutSeconds;
        if (t.TimeoutSecondsPath is { } tp) timeout = ReadInteger(t, "TimeoutSecondsPath", tp, effective, scope, min: 1);
        int? heartbeat = t.HeartbeatSeconds;
        if (t.HeartbeatSecondsPath is { } hp) heartbeat = ReadInteger(t, "HeartbeatSecondsPath", hp, effective, scope, min: 1);
        if (heartbeat is { } hb && timeout is { } to && hb >= to)
            throw StatesError.Runtime($"State '{t.Name}': HeartbeatSeconds {hb} must be smaller than TimeoutSeconds {to}");
        switch (t.Kind)
        {
            case TaskKind.LambdaFunction:
            {
                var payload = JsonNodes.ToUtf8(parameters);
                var scheduled = new JsonObject
                {
                    ["resource"] = t.Resource,
                    ["input"] = Encoding.UTF8.GetString(payload),
                    ["inputDetails"] = NotTruncated(),
                };
                if (timeout is { } ts) scheduled["timeoutInSeconds"] = ts;
                if (heartbeat is { } hs) scheduled["heartbeatInSeconds"] = hs;
                _history.Append(chain, "LambdaFunctionScheduled", scheduled);
                _history.Append(chain, "LambdaFunctionStarted");
                (JsonNode? Node, string Json) output;
                try { output = await InvokeAsync(t.FunctionName!, payload, Limits(t.FunctionName!, timeout, heartbeat), ct).ConfigureAwait(false); }
                catch (StatesError e)
                {
                    _history.Append(chain, ErrorNames.IsTimeout(e.Error) ? "LambdaFunctionTimedOut" : "LambdaFunctionFailed", ErrorDetails(e));
                    throw;
                }
                _history.Append(chain, "LambdaFunctionSucceeded", new JsonObject { ["output"] = output.Json, ["outputDetails"] = NotTruncated() });
                return output.Node;
            }
            case TaskKind.LambdaInvoke:
                return await RunIntegrationAsync(t, "lambda", "invoke", parameters, timeout, heartbeat, chain, async () =>
                {
                    var request = parameters as JsonObject;
                    if (!JsonNodes.TryGetString(request?["FunctionName"], out var fn))
                        throw StatesError.Runtime($"State '{t.Name}': Parameters.FunctionName must be a string, got {JsonPath.Describe(request?["FunctionName"])}");
                    if (AslParser.TryParseLambdaArn(fn, out var fromArn)) fn = fromArn;
                    var payload = request!.TryGetPropertyValue("Payload", out var body) ? JsonNodes.ToUtf8(body) : "{}"u8.ToArray();
                    var (node, _) = await InvokeAsync(fn, payload, Limits(fn, timeout, heartbeat), ct).ConfigureAwait(false);
                    return new JsonObject
                    {
                        ["ExecutedVersion"] = "$LATEST",
                        ["Payload"] = node,
                        ["SdkHttpMetadata"] = new JsonObject { ["HttpStatusCode"] = 200 },
                        ["SdkResponseMetadata"] = new JsonObject { ["RequestId"] = Guid.NewGuid().ToString() },
                        ["StatusCode"] = 200,
                    };
                }).ConfigureAwait(false);
            case TaskKind.StartExecutionSync or TaskKind.StartExecutionSync2:
                return await RunIntegrationAsync(t, "states", t.Kind == TaskKind.StartExecutionSync2 ? "startExecution.sync:2" : "startExecution.sync",
                    parameters, timeout, heartbeat, chain, () => RunChildToEndAsync(t, parameters, timeout, ownsSlot, ct)).ConfigureAwait(false);
            default:
                return await RunIntegrationAsync(t, "states", "startExecution", parameters, timeout, heartbeat, chain, () =>
                {
                    var child = StartChild(t, parameters);
                    return Task.FromResult<JsonNode?>(new JsonObject { ["ExecutionArn"] = child.ExecutionArn, ["StartDate"] = JsonNodes.FormatTimestamp(child.StartTime) });
                }).ConfigureAwait(false);
        }
    }

    private async Task<JsonNode?> RunIntegrationAsync(TaskState t, string resourceType, string resource, JsonNode? parameters, int? timeout,
        int? heartbeat, Chain chain, Func<Task<JsonNode?>> call)
    {
        var scheduled = new JsonObject
        {
            ["resourceType"] = resourceType,
            ["resource"] = resource,
            ["region"] = Region,
            ["parameters"] = JsonNodes.ToJson(parameters),
        };
        if (timeout is { } ts) scheduled["timeoutInSeconds"] = ts;
        if (heartbeat is { } hs) scheduled["heartbeatInSeconds"] = hs;
        _history.Append(chain, "TaskScheduled", scheduled);
        _history.Append(chain, "TaskStarted", new JsonObject { ["resourceType"] = resourceType, ["resource"] = resource });
        JsonNode? result;
        try { result = await call().ConfigureAwait(false); }
        catch (StatesError e)
        {
            var details = ErrorDetails(e);
            details.Insert(0, "resource", resource);
            details.Insert(0, "resourceType", resourceType);
            _history.Append(chain, ErrorNames.IsTimeout(e.Error) ? "TaskTimedOut" : "TaskFailed", details);
            throw;
        }
        _history.Append(chain, "TaskSucceeded", new JsonObject
        {
            ["resourceType"] = resourceType,
            ["resource"] = resource,
            ["output"] = JsonNodes.ToJson(result),
            ["outputDetails"] = NotTruncated(),
        });
        return result;
    }

    private Execution StartChild(TaskState t, JsonNode? parameters)
    {
        var request = parameters as JsonObject;
        if (!JsonNodes.TryGetString(request?["StateMachineArn"], out var arn))
            throw StatesError.Runtime($"State '{t.Name}': Parameters.StateMachineArn must be a string, got {JsonPath.Describe(request?["StateMachineArn"])}");
        var machine = _engine.FindMachine(arn)
                      ?? throw new StatesError("StepFunctions.StateMachineDoesNotExistException", $"State Machine Does Not Exist: '{arn}' is not registered with the local engine");
        JsonNode? childInput = new JsonObject();
        if (request!.TryGetPropertyValue("Input", out var inputNode))
        {
            if (JsonNodes.TryGetString(inputNode, out var text))
            {
                try { childInput = JsonNode.Parse(text); }
                catch (JsonException e) { throw new StatesError("StepFunctions.InvalidExecutionInputException", $"Input is not valid JSON: {e.Message}"); }
            }
            else childInput = JsonNodes.Detached(inputNode, request);
            if (childInput?.Parent is not null) childInput = childInput.DeepClone();
        }
        string? name = null;
        if (request.TryGetPropertyValue("Name", out var nameNode) && !JsonNodes.TryGetString(nameNode, out name))
            throw StatesError.Runtime($"State '{t.Name}': Parameters.Name must be a string");
        Execution child;
        try { child = _engine.Start(machine, childInput, name, _execution.ExecutionArn); }
        catch (ExecutionNameException e)
        {
            var error = e.Message.Contains("already exists", StringComparison.Ordinal) ? "StepFunctions.ExecutionAlreadyExistsException" : "StepFunctions.InvalidNameException";
            throw new StatesError(error, e.Message);
        }
        return child;
    }

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
            // No limit to race: the call ends by itself, or when the user stops the execution.
            response = limit is null && ct == _abort.Token
                ? await _engine.Functions.InvokeAsync(function, new MemoryStream(payload, writable: false), ct).ConfigureAwait(false)
                : await CallWithinAsync(function, payload, limit, ct).ConfigureAwait(false);
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

    // Races the call against its limit (and, inside an EXPRESS child, the child's own).
    private async Task<Stream> CallWithinAsync(string function, byte[] payload, CallLimit? limit, CancellationToken ct)
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
        return await call.ConfigureAwait(false);
    }
}
