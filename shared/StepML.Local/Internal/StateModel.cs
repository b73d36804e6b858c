using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// An ASL Path field that may be absent (defaults to $) or JSON null (documented special meaning).
internal readonly record struct OptionalPath(bool IsNull, JsonPath? Path)
{
    public static readonly OptionalPath Root = new(false, null);
}

// A States/StartAt body: the top-level machine, a Map ItemProcessor or a Parallel branch.
internal sealed class StateMachineBody(string startAt, Dictionary<string, StateBase> states)
{
    public string StartAt { get; } = startAt;
    public Dictionary<string, StateBase> States { get; } = states;
}

internal abstract class StateBase
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public string? Next { get; init; }
    public bool End { get; init; }
    public OptionalPath InputPath { get; init; } = OptionalPath.Root;
    public OptionalPath OutputPath { get; init; } = OptionalPath.Root;
}

// Fields shared by Pass/Task/Map/Parallel: the result pipeline and error handling.
internal abstract class ResultState : StateBase
{
    public PayloadTemplate? Parameters { get; init; }
    public PayloadTemplate? ResultSelector { get; init; }
    public OptionalPath ResultPath { get; init; } = OptionalPath.Root;
    public Retrier[] Retry { get; init; } = [];
    public Catcher[] Catch { get; init; } = [];
}

internal sealed record Retrier(string[] ErrorEquals, double IntervalSeconds, int MaxAttempts, double BackoffRate, double? MaxDelaySeconds, bool FullJitter);

internal sealed record Catcher(string[] ErrorEquals, string Next, OptionalPath ResultPath);

internal sealed class PassState : ResultState
{
    public JsonNode? Result { get; init; }
    public bool HasResult { get; init; }
}

// StartExecutionSync: .sync (Output as a JSON string) or .sync:2 (Output as JSON): waits for the child to end.
internal enum TaskKind { LambdaFunction, LambdaInvoke, StartExecution, StartExecutionSync, StartExecutionSync2 }

internal sealed class TaskState : ResultState
{
    public required string Resource { get; init; }
    public required TaskKind Kind { get; init; }
    // For TaskKind.LambdaFunction: the function name taken from the ARN.
    public string? FunctionName { get; init; }
    public int? TimeoutSeconds { get; init; }
    public JsonPath? TimeoutSecondsPath { get; init; }
    public int? HeartbeatSeconds { get; init; }
    public JsonPath? HeartbeatSecondsPath { get; init; }
}

internal sealed class MapState : ResultState
{
    public required StateMachineBody Processor { get; init; }
    public bool Distributed { get; init; }
    // DISTRIBUTED with ProcessorConfig.ExecutionType EXPRESS: each item is a child execution limited to 5 minutes.
    public bool ExpressChildren { get; init; }
    public JsonPath? ItemsPath { get; init; }
    public PayloadTemplate? ItemSelector { get; init; }
    public int MaxConcurrency { get; init; }
    public JsonPath? MaxConcurrencyPath { get; init; }
    public double? ToleratedFailurePercentage { get; init; }
    public JsonPath? ToleratedFailurePercentagePath { get; init; }
    public long? ToleratedFailureCount { get; init; }
    public JsonPath? ToleratedFailureCountPath { get; init; }
}

internal sealed class ParallelState : ResultState
{
    public required StateMachineBody[] Branches { get; init; }
}

internal sealed record ChoiceBranch(ChoiceCondition Condition, string Next);

internal sealed class ChoiceState : StateBase
{
    public required ChoiceBranch[] Choices { get; init; }
    public string? Default { get; init; }
}

internal sealed class WaitState : StateBase
{
    public double? Seconds { get; init; }
    public JsonPath? SecondsPath { get; init; }
    public DateTimeOffset? Timestamp { get; init; }
    public JsonPath? TimestampPath { get; init; }
}

internal sealed class SucceedState : StateBase;

internal sealed class FailState : StateBase
{
    public string? Error { get; init; }
    public ExpressionTemplate? ErrorPath { get; init; }
    public string? Cause { get; init; }
    public ExpressionTemplate? CausePath { get; init; }
}
