using System.Text.Json.Nodes;

namespace StepML.Local;

/// <summary>
/// Invokes a Lambda-style function by name with raw JSON bytes (StepML handlers are
/// <c>Task&lt;Stream&gt; HandleAsync(Stream input)</c>). An exception thrown by the function is a task
/// failure whose Error is the exception type's short name and whose Cause is
/// <c>{"errorType": ..., "errorMessage": ...}</c>, the shape AWS gives for Lambda errors.
/// </summary>
public interface IFunctionInvoker
{
    Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct);
}

public sealed class LocalEngineOptions
{
    /// <summary>Global cap on concurrently running Map iterations across all executions (CLI --concurrency).
    /// Iterations of a Map nested inside a Map iteration run under their parent's slot, so nesting cannot deadlock.</summary>
    public int MaxConcurrency { get; init; } = Environment.ProcessorCount;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Multiplies Wait-state and Retry delays; 0 makes them instantaneous. Quota timeouts are scaled by <see cref="LimitTimeScale"/>.</summary>
    public double WaitTimeScale { get; init; } = 1.0;

    /// <summary>Multiplies every time quota the engine enforces: Task TimeoutSeconds and HeartbeatSeconds, the function
    /// timeouts of <see cref="Functions"/> and the 5-minute limit of EXPRESS child executions. 0.01 makes a 300 s limit
    /// 3 s, so tests prove the timeouts in seconds. Must be &gt; 0.</summary>
    public double LimitTimeScale { get; init; } = 1.0;

    /// <summary>The deployed configuration of each function, by the name a Task's Resource ARN gives (the function name, not
    /// the ARN). A function listed here times out like Lambda (error <c>Sandbox.Timedout</c>) after its timeout.</summary>
    public IReadOnlyDictionary<string, FunctionLimits> Functions { get; init; } = new Dictionary<string, FunctionLimits>();

    /// <summary>The history quota of one STANDARD execution (25,000 in AWS, a hard quota). Lower only in tests.</summary>
    public int MaxHistoryEvents { get; init; } = Internal.HistoryRecorder.MaxEvents;
}

/// <summary>A Lambda function's configured timeout and memory size, as the deployed stack sets them.</summary>
public sealed record FunctionLimits(int TimeoutSeconds, int MemoryMb);

/// <summary>The AWS quotas the engine enforces, as constants (AWS Step Functions and Lambda service quotas).</summary>
public static class AwsQuotas
{
    /// <summary>Input, output and task results: 256 KiB of UTF-8 (States.DataLimitExceeded).</summary>
    public const int MaxPayloadBytes = 262_144;

    /// <summary>Events in one STANDARD execution's history.</summary>
    public const int MaxHistoryEvents = Internal.HistoryRecorder.MaxEvents;

    /// <summary>The longest an EXPRESS execution (and so an EXPRESS child of a Distributed Map) may run.</summary>
    public const int ExpressExecutionSeconds = 300;

    /// <summary>The longest a Lambda function may be configured to run.</summary>
    public const int MaxFunctionTimeoutSeconds = 900;
}

/// <summary>Terminal result of an execution: Status is SUCCEEDED, FAILED, or ABORTED after <see cref="Execution.Stop"/>.</summary>
public sealed record ExecutionResult(string Status, string? OutputJson, string? Error, string? Cause);

/// <summary>One GetExecutionHistory event; <see cref="Details"/> is the <c>...EventDetails</c> object (empty when the type has none).</summary>
public sealed record HistoryEvent(long Id, long PreviousEventId, DateTimeOffset Timestamp, string Type, JsonObject Details);

/// <summary>A top-level state's final output (after ResultPath/OutputPath). <see cref="Output"/> is a private copy.</summary>
public sealed record StateExit(string StateName, JsonNode? Output);

/// <summary>The ASL definition is invalid or uses a feature the local engine does not implement.
/// The message names the state and the field.</summary>
public sealed class AslValidationException : Exception
{
    public AslValidationException(string message) : base(message) { }
}
