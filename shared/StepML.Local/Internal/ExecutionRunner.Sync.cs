using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// arn:aws:states:::states:startExecution.sync and .sync:2 ("Run a job" with a nested state machine): the task starts
// a child execution and ends when the child does. As documented for the Step Functions integration:
// - the output is DescribeExecution's response: ExecutionArn, Input, InputDetails, Name, Output, OutputDetails,
//   StartDate, StateMachineArn, Status, StopDate; .sync gives Input and Output as JSON strings, .sync:2 as JSON;
// - a child that fails, times out or is aborted fails the task with States.TaskFailed, the Cause being that
//   response (with the child's Error and Cause);
// - the task's TimeoutSeconds stops the child (States.Timeout), and stopping the parent stops the child.
// A parent waiting on a child does no work: inside a Map iteration it lends its engine slot to the child's own Map
// iterations while it waits, so a search Map over trials cannot starve the trials' Workers Maps of slots.
internal sealed partial class ExecutionRunner
{
    private async Task<JsonNode?> RunChildToEndAsync(TaskState t, JsonNode? parameters, int? timeout, bool ownsSlot, CancellationToken ct)
    {
        var child = StartChild(t, parameters);
        ExecutionResult result;
        if (ownsSlot) _engine.Slots.Release();
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var timer = timeout is { } seconds
                ? Task.Delay(TimeSpan.FromSeconds(seconds * _limitScale), _time, cts.Token)
                : Task.Delay(Timeout.Infinite, cts.Token);
            if (await Task.WhenAny(child.Completion, timer).ConfigureAwait(false) != child.Completion)
            {
                var stoppedByParent = ct.IsCancellationRequested;
                child.Stop(stoppedByParent ? "States.Aborted" : ErrorNames.Timeout,
                    stoppedByParent ? $"the parent execution {_execution.ExecutionArn} was stopped" : $"the task '{t.Name}' timed out after {timeout} seconds");
                await child.Completion.ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                throw new StatesError(ErrorNames.Timeout, $"Task timed out after {timeout} seconds (TimeoutSeconds of '{t.Name}'); child execution {child.ExecutionArn} was stopped");
            }
            cts.Cancel();
            result = await child.Completion.ConfigureAwait(false);
        }
        finally
        {
            // The Map iteration gives its slot back when it ends: take one again first.
            if (ownsSlot) await _engine.Slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        var describe = DescribeChild(child, result, json: t.Kind == TaskKind.StartExecutionSync2);
        if (result.Status != "SUCCEEDED")
            throw new StatesError(ErrorNames.TaskFailed, describe.ToJsonString());
        return describe;
    }

    private JsonObject DescribeChild(Execution child, ExecutionResult result, bool json)
    {
        JsonNode? Payload(string? text) => text is null ? null : json ? JsonNode.Parse(text) : JsonValue.Create(text);
        var describe = new JsonObject
        {
            ["ExecutionArn"] = child.ExecutionArn,
            ["Input"] = Payload(child.InputJson),
            ["InputDetails"] = new JsonObject { ["Included"] = true },
            ["Name"] = child.Name,
        };
        if (result.Status == "SUCCEEDED")
        {
            describe["Output"] = Payload(result.OutputJson ?? "null");
            describe["OutputDetails"] = new JsonObject { ["Included"] = true };
        }
        describe["StartDate"] = child.StartTime.ToUnixTimeMilliseconds();
        describe["StateMachineArn"] = child.StateMachineArn;
        describe["Status"] = result.Status;
        describe["StopDate"] = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (result.Error is not null) describe["Error"] = result.Error;
        if (result.Cause is not null) describe["Cause"] = result.Cause;
        return describe;
    }
}
