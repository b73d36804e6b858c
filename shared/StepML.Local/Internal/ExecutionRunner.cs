using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Interprets one execution. Input/output processing follows the documented order:
// InputPath → Parameters/ItemSelector → task → ResultSelector → ResultPath → OutputPath.
// Ownership rule: a state owns its raw input (ResultPath updates it in place); nodes taken from elsewhere are
// cloned only when they are inserted into another tree.
internal sealed partial class ExecutionRunner
{
    private const string Region = "local";

    private readonly LocalEngine _engine;
    private readonly StateMachineDefinition _machine;
    private readonly Execution _execution;
    private readonly HistoryRecorder _history;
    private readonly JsonNode? _input;
    private readonly ExecutionInfo _info;
    private readonly TimeProvider _time;
    private readonly double _scale;
    private readonly double _limitScale;
    private readonly CancellationTokenSource _abort = new();

    public ExecutionRunner(LocalEngine engine, StateMachineDefinition machine, Execution execution, HistoryRecorder history, JsonNode? input)
    {
        _engine = engine;
        _machine = machine;
        _execution = execution;
        _history = history;
        _input = input;
        _time = engine.Options.TimeProvider;
        _scale = engine.Options.WaitTimeScale;
        _limitScale = engine.Options.LimitTimeScale;
        _info = new ExecutionInfo(execution.ExecutionArn, execution.Name, JsonNodes.FormatTimestamp(execution.StartTime), input,
            machine.StateMachineArn, machine.Name);
    }

    // Cancel: the abort token, or inside an EXPRESS child its time limit as well.
    // OwnsSlot: this frame's body runs in the engine slot its Map iteration took (not one inherited from an outer Map
    // or shared with Parallel branches), so a .sync task in it may lend the slot out while it waits for its child.
    private readonly record struct Frame(int Depth, bool HoldsSlot, CancellationToken Cancel, bool OwnsSlot = false);

    private readonly record struct Step(JsonNode? Output, string? Next);

    // Requests a stop: running functions see their CancellationToken cancelled, waits end, and the
    // execution finishes as ABORTED with an ExecutionAborted event.
    public void Abort(string? error, string? cause)
    {
        _abortError = error;
        _abortCause = cause;
        _abort.Cancel();
    }

    private volatile string? _abortError;
    private volatile string? _abortCause;

    public void RecordStart()
        => _history.Add("ExecutionStarted", 0, new JsonObject
        {
            ["input"] = _execution.InputJson,
            ["inputDetails"] = NotTruncated(),
            ["roleArn"] = "arn:aws:iam::000000000000:role/local",
        });

    public async Task<ExecutionResult> RunAsync()
    {
        // JsonNode materialises objects lazily and that is not thread-safe: touch the shared execution input once,
        // before Map iterations read $$.Execution.Input concurrently.
        Materialize(_input);
        var chain = new Chain(1);
        try
        {
            var output = await RunBodyAsync(_machine.Body, _input?.DeepClone(), chain, new Frame(0, false, _abort.Token)).ConfigureAwait(false);
            var json = JsonNodes.ToJson(output);
            _history.Add("ExecutionSucceeded", chain.Last, new JsonObject { ["output"] = json, ["outputDetails"] = NotTruncated() });
            return new ExecutionResult("SUCCEEDED", json, null, null);
        }
        catch (StatesError e) when (!_abort.IsCancellationRequested)
        {
            _history.Add("ExecutionFailed", chain.Last, ErrorDetails(e));
            return new ExecutionResult("FAILED", null, e.Error, e.Cause);
        }
        catch (Exception e) when (_abort.IsCancellationRequested && e is OperationCanceledException or StatesError)
        {
            var details = new JsonObject();
            if (_abortError is { } error) details["error"] = error;
            if (_abortCause is { } cause) details["cause"] = cause;
            _history.Add("ExecutionAborted", chain.Last, details);
            return new ExecutionResult("ABORTED", null, _abortError, _abortCause);
        }
    }

    private async Task<JsonNode?> RunBodyAsync(StateMachineBody body, JsonNode? input, Chain chain, Frame frame)
    {
        var state = body.States[body.StartAt];
        while (true)
        {
            var step = await RunStateAsync(state, input, chain, frame).ConfigureAwait(false);
            if (frame.Depth == 0 && _engine.HasStateExitedHandlers)
                _engine.RaiseStateExited(_execution, new StateExit(state.Name, step.Output?.DeepClone()));
            if (step.Next is null) return step.Output;
            state = body.States[step.Next];
            input = step.Output;
        }
    }

    private async ValueTask<Step> RunStateAsync(StateBase state, JsonNode? input, Chain chain, Frame frame)
    {
        frame.Cancel.ThrowIfCancellationRequested();
        var entered = _time.GetUtcNow();
        _history.Append(chain, state.Type + "StateEntered", new JsonObject
        {
            ["name"] = state.Name,
            ["input"] = JsonNodes.ToJson(input),
            ["inputDetails"] = NotTruncated(),
        });
        var scope = new StateScope { Execution = _info, StateName = state.Name, Entered = entered };
        Step step;
        switch (state)
        {
            case PassState pass:
            {
                var effective = ApplyInputPath(state, input);
                var result = pass.HasResult ? pass.Result?.DeepClone() : pass.Parameters is { } p ? p.Build(effective, scope) : effective;
                step = new Step(ApplyOutputPath(state, ApplyResultPath(state, pass.ResultPath, input, result)), pass.Next);
                break;
            }
            case ChoiceState choice:
                step = RunChoice(choice, input, scope);
                break;
            case WaitState wait:
                step = await RunWaitAsync(wait, input, frame.Cancel).ConfigureAwait(false);
                break;
            case SucceedState:
                step = new Step(ApplyOutputPath(state, ApplyInputPath(state, input)), null);
                break;
            case FailState fail:
                throw FailError(fail, input, scope);
            case ResultState rs:
                step = await RunWithRetryAsync(rs, input, scope, chain, frame).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"State '{state.Name}' has unhandled type {state.Type}");
        }
        var outputJson = JsonNodes.ToJson(step.Output);
        CheckPayloadSize(outputJson, $"The state/task '{state.Name}' returned a result with a size exceeding the maximum number of bytes service limit");
        _history.Append(chain, state.Type + "StateExited", new JsonObject
        {
            ["name"] = state.Name,
            ["output"] = outputJson,
            ["outputDetails"] = NotTruncated(),
        });
        return step;
    }

    private async ValueTask<Step> RunWithRetryAsync(ResultState rs, JsonNode? input, StateScope scope, Chain chain, Frame frame)
    {
        int[]? attempts = rs.Retry.Length == 0 ? null : new int[rs.Retry.Length];
        while (true)
        {
            try
            {
                var effective = ApplyInputPath(rs, input);
                JsonNode? result = rs switch
                {
                    TaskState t => await RunTaskAsync(t, effective, scope, chain, frame.Cancel, frame.OwnsSlot).ConfigureAwait(false),
                    MapState m => await RunMapAsync(m, effective, scope, chain, frame).ConfigureAwait(false),
                    ParallelState p => await RunParallelAsync(p, effective, scope, chain, frame).ConfigureAwait(false),
                    _ => throw new InvalidOperationException($"State '{rs.Name}' of type {rs.Type} cannot run as a task"),
                };
                if (rs.ResultSelector is { } selector) result = selector.Build(result, scope);
                return new Step(ApplyOutputPath(rs, ApplyResultPath(rs, rs.ResultPath, input, result)), rs.End ? null : rs.Next);
            }
            catch (StatesError e)
            {
                int r = Array.FindIndex(rs.Retry, x => ErrorNames.Matches(x.ErrorEquals, e.Error));
                if (r >= 0 && attempts![r] < rs.Retry[r].MaxAttempts)
                {
                    var retrier = rs.Retry[r];
                    double seconds = retrier.IntervalSeconds * Math.Pow(retrier.BackoffRate, attempts[r]);
                    if (retrier.MaxDelaySeconds is { } max) seconds = Math.Min(seconds, max);
                    if (retrier.FullJitter) seconds *= _info.NextDouble();
                    attempts[r]++;
                    scope.RetryCount++;
                    await DelayAsync(seconds, frame.Cancel).ConfigureAwait(false);
                    continue;
                }
                foreach (var c in rs.Catch)
                {
                    if (!ErrorNames.Matches(c.ErrorEquals, e.Error)) continue;
                    return new Step(ApplyResultPath(rs, c.ResultPath, input, e.ToErrorOutput()), c.Next);
                }
                throw;
            }
        }
    }

    // ---- Parallel ----------------------------------------------------------------------------------------

    private async Task<JsonNode?> RunParallelAsync(ParallelState p, JsonNode? effective, StateScope scope, Chain chain, Frame frame)
    {
        var branchInput = p.Parameters is { } parameters ? parameters.Build(effective, scope) : effective;
        var inputs = new JsonNode?[p.Branches.Length];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = branchInput?.DeepClone();
        _history.Append(chain, "ParallelStateStarted");
        long startId = chain.Last;
        var childFrame = new Frame(frame.Depth + 1, frame.HoldsSlot, frame.Cancel);
        var chains = new Chain[inputs.Length];
        var tasks = new Task<JsonNode?>[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            int b = i;
            chains[b] = new Chain(startId, chain.InChildExecution);
            tasks[b] = Task.Run(() => RunBodyAsync(p.Branches[b], inputs[b], chains[b], childFrame));
        }
        try { await Task.WhenAll(tasks).ConfigureAwait(false); }
        catch (StatesError) { }
        chain.Last = chains.Max(c => c.Last);
        foreach (var task in tasks)
        {
            if (task.Exception?.InnerException is StatesError e)
            {
                _history.Append(chain, "ParallelStateFailed", ErrorDetails(e));
                throw e;
            }
            if (task.IsFaulted) await task.ConfigureAwait(false);
        }
        var results = new JsonArray();
        foreach (var task in tasks)
        {
            var r = task.Result;
            results.Add(r?.Parent is null ? r : r.DeepClone());
        }
        _history.Append(chain, "ParallelStateSucceeded");
        return results;
    }

    // ---- Choice, Wait, Fail ------------------------------------------------------------------------------

    private Step RunChoice(ChoiceState choice, JsonNode? input, StateScope scope)
    {
        var effective = ApplyInputPath(choice, input);
        foreach (var branch in choice.Choices)
            if (branch.Condition.Evaluate(effective, scope)) return new Step(ApplyOutputPath(choice, effective), branch.Next);
        if (choice.Default is { } d) return new Step(ApplyOutputPath(choice, effective), d);
        throw new StatesError(ErrorNames.NoChoiceMatched, $"No Choice Rules matched and no Default was specified in state '{choice.Name}' for input {JsonPath.Describe(effective)}");
    }

    private async Task<Step> RunWaitAsync(WaitState wait, JsonNode? input, CancellationToken ct)
    {
        var effective = ApplyInputPath(wait, input);
        double seconds;
        if (wait.Seconds is { } s) seconds = s;
        else if (wait.Timestamp is { } t) seconds = (t - _time.GetUtcNow()).TotalSeconds;
        else if (wait.SecondsPath is { } sp)
        {
            if (!sp.TryEvaluate(effective, out var node) || !JsonNodes.TryGetNumber(node, out seconds) || seconds < 0 || seconds != Math.Floor(seconds))
                throw StatesError.Runtime($"State '{wait.Name}': SecondsPath '{sp.Text}' must select a non-negative integer in {JsonPath.Describe(effective)}");
        }
        else
        {
            var tp = wait.TimestampPath!;
            if (!tp.TryEvaluate(effective, out var node) || !JsonNodes.TryGetString(node, out var text) || !JsonNodes.TryParseTimestamp(text, out var ts))
                throw StatesError.Runtime($"State '{wait.Name}': TimestampPath '{tp.Text}' must select an RFC 3339 timestamp in {JsonPath.Describe(effective)}");
            seconds = (ts - _time.GetUtcNow()).TotalSeconds;
        }
        await DelayAsync(seconds, ct).ConfigureAwait(false);
        return new Step(ApplyOutputPath(wait, effective), wait.Next);
    }

    private StatesError FailError(FailState fail, JsonNode? input, StateScope scope)
    {
        string Read(ExpressionTemplate? path, string? constant, string field)
        {
            if (path is null) return constant ?? "";
            var node = path.Peek(input, scope);
            return JsonNodes.TryGetString(node, out var s) ? s : throw StatesError.Runtime($"State '{fail.Name}': {field} must select a string, got {JsonPath.Describe(node)}");
        }
        return new StatesError(Read(fail.ErrorPath, fail.Error, "ErrorPath"), Read(fail.CausePath, fail.Cause, "CausePath"));
    }

    // ---- input/output processing -------------------------------------------------------------------------

    private static JsonNode? ApplyInputPath(StateBase state, JsonNode? input)
    {
        if (state.InputPath.IsNull) return new JsonObject();
        if (state.InputPath.Path is not { } path) return input;
        return path.TryEvaluate(input, out var node) ? node
            : throw StatesError.Runtime($"State '{state.Name}': InputPath '{path.Text}' matched nothing in the input {JsonPath.Describe(input)}");
    }

    private static JsonNode? ApplyResultPath(StateBase state, OptionalPath resultPath, JsonNode? input, JsonNode? result)
    {
        if (resultPath.IsNull) return input;
        if (resultPath.Path is not { } path || path.IsRoot) return result;
        try { return path.SetIn(input, JsonNodes.Detached(result, input)); }
        catch (StatesError e) { throw new StatesError(e.Error, $"State '{state.Name}': {e.Cause}"); }
    }

    private static JsonNode? ApplyOutputPath(StateBase state, JsonNode? output)
    {
        if (state.OutputPath.IsNull) return new JsonObject();
        if (state.OutputPath.Path is not { } path) return output;
        return path.TryEvaluate(output, out var node) ? node
            : throw StatesError.Runtime($"State '{state.Name}': OutputPath '{path.Text}' matched nothing in {JsonPath.Describe(output)}");
    }

    private static int ReadInteger(StateBase state, string field, JsonPath path, JsonNode? input, StateScope scope, int min)
    {
        bool found = path.IsContext ? scope.TryResolve(path, out var node) : path.TryEvaluate(input, out node);
        if (!found || !JsonNodes.TryGetNumber(node, out var d) || d != Math.Floor(d) || d < min || d > int.MaxValue)
            throw StatesError.Runtime($"State '{state.Name}': {field} '{path.Text}' must select an integer >= {min}, got {(found ? JsonPath.Describe(node) : "nothing")}");
        return (int)d;
    }

    private static double ReadNumber(StateBase state, string field, JsonPath path, JsonNode? input, StateScope scope, double min, double max)
    {
        bool found = path.IsContext ? scope.TryResolve(path, out var node) : path.TryEvaluate(input, out node);
        if (!found || !JsonNodes.TryGetNumber(node, out var d) || d < min || d > max)
            throw StatesError.Runtime($"State '{state.Name}': {field} '{path.Text}' must select a number in [{min}, {max}], got {(found ? JsonPath.Describe(node) : "nothing")}");
        return d;
    }

    private Task DelayAsync(double seconds, CancellationToken ct)
    {
        double scaled = seconds * _scale;
        return scaled > 0 ? Task.Delay(TimeSpan.FromSeconds(scaled), _time, ct) : Task.CompletedTask;
    }

    // The Step Functions payload quota for inputs, outputs and task results: 256 KiB of UTF-8.
    internal const int MaxPayloadBytes = AwsQuotas.MaxPayloadBytes;

    private static void CheckPayloadSize(string json, string message)
    {
        // Cheap pre-check on char count: UTF-8 is at least one byte per char and at most three per UTF-16 unit.
        if (json.Length * 3 <= MaxPayloadBytes) return;
        int bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > MaxPayloadBytes)
            throw new StatesError(ErrorNames.DataLimitExceeded, $"{message}: {bytes} bytes > {MaxPayloadBytes} (256 KiB). Keep tensors in storage and pass keys.");
    }

    private static JsonObject NotTruncated() => new() { ["truncated"] = false };

    private static JsonObject ErrorDetails(StatesError e)
    {
        var details = new JsonObject();
        if (e.Error.Length > 0) details["error"] = e.Error;
        if (e.Cause.Length > 0) details["cause"] = e.Cause;
        return details;
    }

    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var kv in obj) Materialize(kv.Value);
                break;
            case JsonArray arr:
                foreach (var item in arr) Materialize(item);
                break;
        }
    }
}
