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

    /// <summary>Multiplies Wait-state and Retry delays; 0 makes them instantaneous. Task TimeoutSeconds is not scaled.</summary>
    public double WaitTimeScale { get; init; } = 1.0;
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
