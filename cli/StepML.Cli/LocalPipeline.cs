using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli;

/// <summary>
/// Runs statemachines/train.asl.json in-process: the local engine interprets the very ASL file that CDK deploys,
/// and its Task states call the very handlers deployed to Lambda, through their raw stream entry points.
/// Follows a run across continue-as-new executions and writes runs/&lt;runId&gt;/history.json.
/// </summary>
public sealed class LocalPipeline
{
    public const string StateMachineName = "stepml-train";
    private static readonly string[] s_functions = ["Prepare", "Worker", "Merge", "Decide", "Finalize", "RecordFailure"];

    private readonly LocalEngine _engine;
    private readonly IObjectStore _store;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _runIds = new();

    public LocalPipeline(IObjectStore store, LocalPipelineOptions? options = null)
    {
        options ??= new LocalPipelineOptions();
        _store = store;
        // The deployed stack's limits, scaled like every other time limit (tests prove them in seconds).
        var deployed = DeployedFunctions.Load();
        var roundSeconds = options.WorkerRoundSeconds ?? deployed.WorkerRoundSeconds * options.LimitTimeScale;
        Context = new FunctionContext(new FunctionSettings(store.Uri, Architecture: options.Architecture, WorkerRoundSeconds: roundSeconds), store, options.TimeProvider);
        var invoker = new HandlerInvoker(Context);
        IFunctionInvoker functions = options.WrapFunctions is null ? invoker : options.WrapFunctions(invoker);
        _engine = new LocalEngine(functions, new LocalEngineOptions
        {
            MaxConcurrency = options.Concurrency,
            TimeProvider = options.TimeProvider ?? TimeProvider.System,
            WaitTimeScale = options.WaitTimeScale,
            LimitTimeScale = options.LimitTimeScale,
            Functions = deployed.Limits.ToDictionary(f => FunctionName(f.Key), f => f.Value),
            MaxHistoryEvents = options.MaxHistoryEvents,
        });
        var substitutions = s_functions.ToDictionary(f => f + "FunctionArn", FunctionArn);
        Definition = StateMachineDefinition.Parse(File.ReadAllText(options.AslPath ?? FindAsl()), substitutions, StateMachineName);
        _engine.Register(Definition);
        _engine.StateExited += OnStateExited;
    }

    public FunctionContext Context { get; }
    public StateMachineDefinition Definition { get; }

    /// <summary>Raised when Decide has closed a round (the state carries the round's loss and the decision).</summary>
    public event Action<RunState>? RoundCompleted;

    /// <summary>Raised when Prepare has created the run.</summary>
    public event Action<RunState>? Prepared;

    public static string FunctionName(string function) => "stepml-" + function;

    public static string FunctionArn(string function) => $"arn:aws:lambda:local:000000000000:function:{FunctionName(function)}";

    private void OnStateExited(Execution execution, StateExit exit)
    {
        // A caught error also leaves the state (its output is the input plus $.error): only a real run state counts.
        if (exit.StateName is not ("Decide" or "Prepare") || exit.Output is not JsonObject output || output.ContainsKey("error")) return;
        var state = output.Deserialize(ContractJson.Default.RunState);
        if (state is null || state.Skip == true || state.Partitions.Length == 0) return;
        _runIds[execution.ExecutionArn] = state.RunId;
        if (exit.StateName == "Decide") RoundCompleted?.Invoke(state);
        else if (execution.ParentExecutionArn is null) Prepared?.Invoke(state);
    }

    /// <summary>Starts the state machine with <paramref name="inputJson"/> (a job spec or any input Prepare accepts)
    /// and waits for the run to end, across continue-as-new executions.</summary>
    public async Task<PipelineResult> RunAsync(string inputJson, string? executionName = null, CancellationToken cancellationToken = default)
    {
        var first = _engine.StartExecution(StateMachineName, inputJson, executionName);
        var seen = new HashSet<Execution>();
        ExecutionResult result;
        Execution last = first;
        while (true)
        {
            result = await last.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            seen.Add(last);
            var next = _engine.Executions.FirstOrDefault(e => !seen.Contains(e) && e.ParentExecutionArn == last.ExecutionArn);
            if (next is null) break;
            last = next;
        }
        var executions = _engine.Executions.Where(e => e == first || seen.Contains(e)).ToList();
        var runId = RunIdOf(executions);
        if (runId is not null)
        {
            await WriteHistoryAsync(runId, executions).ConfigureAwait(false);
            // The report Finalize or RecordFailure wrote, again with the worker timeline the history now holds.
            if (await _store.ExistsAsync(RunLayout.Report(runId), cancellationToken).ConfigureAwait(false))
                await Runs.RunReport.WriteAsync(new Runs.RunReader(_store), runId, ct: cancellationToken).ConfigureAwait(false);
        }
        FinalSummary? summary = null;
        if (result.Status == "SUCCEEDED" && result.OutputJson is { } output && JsonNode.Parse(output) is JsonObject o && o.ContainsKey("modelKey"))
            summary = o.Deserialize(ContractJson.Default.FinalSummary);
        return new PipelineResult(result.Status, runId, summary, result.Error, result.Cause, executions);
    }

    private string? RunIdOf(IReadOnlyList<Execution> executions)
    {
        foreach (var execution in executions)
            if (_runIds.TryGetValue(execution.ExecutionArn, out var id)) return id;
        return null;
    }

    private async Task WriteHistoryAsync(string runId, IReadOnlyList<Execution> executions)
    {
        var list = new JsonArray();
        foreach (var e in executions)
        {
            var result = e.Completion.IsCompletedSuccessfully ? e.Completion.Result : null;
            list.Add(new JsonObject
            {
                ["name"] = e.Name,
                ["executionArn"] = e.ExecutionArn,
                ["status"] = result?.Status ?? "RUNNING",
                ["startDate"] = e.StartTime.ToString("O"),
                ["events"] = JsonNode.Parse(e.HistoryJson())!["events"]!.DeepClone(),
            });
        }
        var doc = new JsonObject { ["runId"] = runId, ["stateMachineArn"] = Definition.StateMachineArn, ["executions"] = list };
        await _store.PutAsync(RunLayout.History(runId), JsonSerializer.SerializeToUtf8Bytes(doc, new JsonSerializerOptions { WriteIndented = true })).ConfigureAwait(false);
    }

    /// <summary>statemachines/train.asl.json next to the binary (copied at build), else found upwards from the working directory.</summary>
    public static string FindAsl()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "statemachines", "train.asl.json");
        if (File.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "statemachines", "train.asl.json");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("statemachines/train.asl.json was found neither beside the stepml binary nor above the working directory");
    }

    /// <summary>Calls a handler through its Lambda entry point, <c>Task&lt;Stream&gt; HandleAsync(Stream)</c>.</summary>
    private sealed class HandlerInvoker(FunctionContext context) : IFunctionInvoker
    {
        private readonly Dictionary<string, Func<Stream, Task<Stream>>> _handlers = new()
        {
            [FunctionArn("Prepare")] = new PrepareFunction(context).HandleAsync,
            [FunctionArn("Worker")] = new WorkerFunction(context).HandleAsync,
            [FunctionArn("Merge")] = new MergeFunction(context).HandleAsync,
            [FunctionArn("Decide")] = new DecideFunction(context).HandleAsync,
            [FunctionArn("Finalize")] = new FinalizeFunction(context).HandleAsync,
            [FunctionArn("RecordFailure")] = new RecordFailureFunction(context).HandleAsync,
        };

        public Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            var key = functionName.StartsWith("arn:", StringComparison.Ordinal) ? functionName : FunctionArn(functionName.Replace("stepml-", "", StringComparison.Ordinal));
            if (!_handlers.TryGetValue(key, out var handler))
                throw new InvalidOperationException($"no local function '{functionName}'; known: {string.Join(", ", _handlers.Keys)}");
            // Handlers are CPU-bound: run each on the thread pool so Map iterations really run in parallel. A call the
            // engine gives up on (timeout, EXPRESS limit, stop) cannot be killed in-process: the handler sees it cancelled.
            return Task.Run(() =>
            {
                FunctionContext.Invocation = ct;
                return handler(payload);
            }, ct);
        }
    }
}

public sealed record LocalPipelineOptions
{
    /// <summary>Concurrent Map iterations (the CLI's --concurrency).</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;
    public TimeProvider? TimeProvider { get; init; }
    public double WaitTimeScale { get; init; } = 1.0;
    /// <summary>Scales every enforced time quota (Task and function timeouts, the EXPRESS 5 minutes) and the workers'
    /// round budget with them; 0.01 turns the Worker's 240 s into 2.4 s.</summary>
    public double LimitTimeScale { get; init; } = 1.0;
    /// <summary>Overrides the workers' round budget, in seconds as given (not scaled); 0 disables it. Null: the deployed
    /// budget × <see cref="LimitTimeScale"/>.</summary>
    public double? WorkerRoundSeconds { get; init; }
    /// <summary>The history quota (25,000 events); lower only in tests.</summary>
    public int MaxHistoryEvents { get; init; } = AwsQuotas.MaxHistoryEvents;
    public string? AslPath { get; init; }
    public string Architecture { get; init; } = "x86_64";
    /// <summary>Decorates the function invoker (tests: delays that shuffle completion order, injected faults).</summary>
    public Func<IFunctionInvoker, IFunctionInvoker>? WrapFunctions { get; init; }
}

public sealed record PipelineResult(string Status, string? RunId, FinalSummary? Summary, string? Error, string? Cause, IReadOnlyList<Execution> Executions)
{
    public bool Succeeded => Status == "SUCCEEDED";
}
