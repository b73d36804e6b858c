using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Local.Internal;

namespace StepML.Local;

/// <summary>
/// Runs ASL state machines in-process with AWS Step Functions semantics (JSONPath mode). Task states call
/// <see cref="IFunctionInvoker"/>; DISTRIBUTED Map iterations run in-process as iterations of the parent
/// execution (not as separate child executions), with MapRun* events recorded in the parent history.
/// </summary>
public sealed class LocalEngine
{
    private readonly Dictionary<string, StateMachineDefinition> _machines = new(StringComparer.Ordinal);
    private readonly List<Execution> _executions = [];
    private readonly HashSet<string> _executionArns = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    public LocalEngine(IFunctionInvoker functions, LocalEngineOptions? options = null)
    {
        Functions = functions ?? throw new ArgumentNullException(nameof(functions));
        Options = options ?? new LocalEngineOptions();
        if (Options.MaxConcurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.MaxConcurrency is {Options.MaxConcurrency}; it must be at least 1");
        if (!(Options.WaitTimeScale >= 0) || double.IsInfinity(Options.WaitTimeScale))
            throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.WaitTimeScale is {Options.WaitTimeScale}; it must be a finite number >= 0");
        if (!(Options.LimitTimeScale > 0) || double.IsInfinity(Options.LimitTimeScale))
            throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.LimitTimeScale is {Options.LimitTimeScale}; it must be a finite number > 0");
        if (Options.MaxHistoryEvents is < 2 or > AwsQuotas.MaxHistoryEvents)
            throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.MaxHistoryEvents is {Options.MaxHistoryEvents}; it must be from 2 to {AwsQuotas.MaxHistoryEvents}");
        foreach (var (name, limits) in Options.Functions)
        {
            if (limits.TimeoutSeconds is < 1 or > AwsQuotas.MaxFunctionTimeoutSeconds)
                throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.Functions['{name}'].TimeoutSeconds is {limits.TimeoutSeconds}; Lambda allows 1 to {AwsQuotas.MaxFunctionTimeoutSeconds}");
            if (limits.MemoryMb is < 128 or > 10240)
                throw new ArgumentOutOfRangeException(nameof(options), $"LocalEngineOptions.Functions['{name}'].MemoryMb is {limits.MemoryMb}; Lambda allows 128 to 10240");
        }
        Slots = new SemaphoreSlim(Options.MaxConcurrency, Options.MaxConcurrency);
    }

    public LocalEngineOptions Options { get; }
    internal IFunctionInvoker Functions { get; }
    internal SemaphoreSlim Slots { get; }

    public event Action<Execution>? ExecutionStarted;

    /// <summary>Raised after each top-level state's output is final (not for states inside Map/Parallel).</summary>
    public event Action<Execution, StateExit>? StateExited;

    internal bool HasStateExitedHandlers => StateExited is not null;

    internal void RaiseStateExited(Execution execution, StateExit exit) => StateExited?.Invoke(execution, exit);

    public IReadOnlyList<Execution> Executions
    {
        get { lock (_lock) return _executions.ToArray(); }
    }

    public void Register(StateMachineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_lock) _machines[definition.Name] = definition;
    }

    /// <summary>Starts an execution by machine name or ARN and returns at once; await <see cref="Execution.Completion"/>.</summary>
    public Execution StartExecution(string stateMachineName, string inputJson, string? executionName = null)
    {
        JsonNode? input;
        try { input = JsonNode.Parse(string.IsNullOrWhiteSpace(inputJson) ? "{}" : inputJson); }
        catch (JsonException e) { throw new ArgumentException($"Execution input is not valid JSON: {e.Message}", nameof(inputJson), e); }
        if (inputJson is not null && Encoding.UTF8.GetByteCount(inputJson) > AwsQuotas.MaxPayloadBytes)
            throw new ArgumentException($"Execution input is {Encoding.UTF8.GetByteCount(inputJson)} bytes, above the {AwsQuotas.MaxPayloadBytes}-byte (256 KiB) Step Functions payload quota", nameof(inputJson));
        var machine = FindMachine(stateMachineName)
                      ?? throw new ArgumentException($"No state machine '{stateMachineName}' is registered (registered: {string.Join(", ", RegisteredNames())})", nameof(stateMachineName));
        return Start(machine, input, executionName, parentArn: null);
    }

    internal StateMachineDefinition? FindMachine(string nameOrArn)
    {
        var name = nameOrArn.StartsWith(StateMachineDefinition.ArnPrefix, StringComparison.Ordinal)
            ? nameOrArn[StateMachineDefinition.ArnPrefix.Length..]
            : nameOrArn.StartsWith("arn:", StringComparison.Ordinal) ? nameOrArn[(nameOrArn.LastIndexOf(':') + 1)..] : nameOrArn;
        lock (_lock) return _machines.GetValueOrDefault(name);
    }

    private string[] RegisteredNames()
    {
        lock (_lock) return _machines.Keys.ToArray();
    }

    // Duplicate execution names for the same machine are rejected, as in AWS (ExecutionAlreadyExists).
    internal Execution Start(StateMachineDefinition machine, JsonNode? input, string? executionName, string? parentArn)
    {
        var name = executionName ?? Guid.NewGuid().ToString();
        if (name.Length is 0 or > 80 || name.IndexOfAny([':', '/', ' ', '*', '?', '"', '<', '>', '{', '}', '[', ']']) >= 0)
            throw new ExecutionNameException($"Execution name '{name}' is invalid: use 1-80 characters without spaces or : / * ? \" < > {{ }} [ ]");
        var history = new HistoryRecorder(Options.TimeProvider, Options.MaxHistoryEvents);
        var execution = new Execution(name, machine, Options.TimeProvider.GetUtcNow(), JsonNodes.ToJson(input), history) { ParentExecutionArn = parentArn };
        lock (_lock)
        {
            if (!_executionArns.Add(execution.ExecutionArn))
                throw new ExecutionNameException($"An execution named '{name}' of '{machine.Name}' already exists (ExecutionAlreadyExists); pick another name");
            _executions.Add(execution);
        }
        var runner = new ExecutionRunner(this, machine, execution, history, input);
        execution.Runner = runner;
        runner.RecordStart();
        var start = new Task<Task<ExecutionResult>>(runner.RunAsync);
        execution.Completion = start.Unwrap();
        try { ExecutionStarted?.Invoke(execution); }
        finally { start.Start(TaskScheduler.Default); } // a throwing handler must not leave Completion pending forever
        return execution;
    }
}

/// <summary>The execution name is invalid or already used for this state machine.</summary>
public sealed class ExecutionNameException(string message) : Exception(message);
