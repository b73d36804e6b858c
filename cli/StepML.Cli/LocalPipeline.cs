using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Local;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Cli;

/// <summary>
/// Runs statemachines/train.asl.json in-process: the local engine interprets the very ASL file that CDK deploys,
/// and its Task states call the very handlers deployed to Lambda, through their raw stream entry points.
/// Follows a run across continue-as-new executions and writes each execution's history to the store as it goes
/// (<see cref="RunHistory"/>), forgetting finished executions so memory stays flat over any number of rounds.
/// </summary>
public sealed class LocalPipeline
{
    public const string StateMachineName = "stepml-train";
    public const string SearchStateMachineName = "stepml-search";
    /// <summary>The functions the ASL names (<c>${&lt;Name&gt;FunctionArn}</c>), as in infra's FunctionCatalog.</summary>
    public static readonly IReadOnlyList<string> Functions = ["Prepare", "Worker", "Merge", "Decide", "Finalize", "RecordFailure", "Partition"];

    private readonly LocalEngine _engine;
    private readonly IObjectStore _store;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _runIds = new();
    private readonly TimeSpan _checkpointInterval;
    private const long MaxHistoryBytesForReport = 64L << 20;

    public LocalPipeline(IObjectStore store, LocalPipelineOptions? options = null)
    {
        options ??= new LocalPipelineOptions();
        _store = store;
        _checkpointInterval = options.HistoryCheckpointInterval;
        // The deployed stack's limits, scaled like every other time limit (tests prove them in seconds).
        var deployed = DeployedFunctions.Load();
        var roundSeconds = options.WorkerRoundSeconds ?? deployed.WorkerRoundSeconds * options.LimitTimeScale;
        // The variables a deployed function reads that also make sense on one machine: the partition cache and the range size.
        var environment = FunctionSettings.FromEnvironment();
        Context = new FunctionContext(new FunctionSettings(store.Uri, Architecture: options.Architecture, WorkerRoundSeconds: roundSeconds,
            CacheBytes: environment.CacheBytes,
            PartitionRangeBytes: options.PartitionRangeBytes ?? environment.PartitionRangeBytes, Process: LocalProcess.Current()), store,
            options.TimeProvider, options.Ledger ?? RunLedgers.Open(null, store, time: options.TimeProvider));
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
        var substitutions = Functions.ToDictionary(f => f + "FunctionArn", FunctionArn);
        Definition = StateMachineDefinition.Parse(File.ReadAllText(options.AslPath ?? FindAsl()), substitutions, StateMachineName);
        _engine.Register(Definition);
        // The search machine starts trials as nested executions of the training machine, by its ARN.
        var searchSubstitutions = new Dictionary<string, string>
        {
            ["SearchFunctionArn"] = FunctionArn("Search"),
            ["TrainStateMachineArn"] = Definition.StateMachineArn,
        };
        _engine.Register(StateMachineDefinition.Parse(File.ReadAllText(FindAsl(SearchAslFile)), searchSubstitutions, SearchStateMachineName));
        _engine.StateExited += OnStateExited;
    }

    public FunctionContext Context { get; }
    public StateMachineDefinition Definition { get; }

    /// <summary>Raised when Decide has closed a round (the state carries the round's loss and the decision).</summary>
    public event Action<RunState>? RoundCompleted;

    /// <summary>Raised when the run has started: its partition set is complete (reused at Prepare, or made by the
    /// Partition and Assemble Maps and committed), job.json and model/0 are written.</summary>
    public event Action<RunState>? Prepared;

    /// <summary>Raised when Prepare has planned a new partition set: the Partition and Assemble Maps come next
    /// (<see cref="RunState.Partitioning"/> has the ranges and outputs); <see cref="Prepared"/> follows at Commit.</summary>
    public event Action<RunState>? Partitioning;

    public static string FunctionName(string function) => "stepml-" + function;

    public static string FunctionArn(string function) => $"arn:aws:lambda:local:000000000000:function:{FunctionName(function)}";

    /// <summary>Raised when the search machine's Rank step has recorded a batch of trials (its output: the search state).</summary>
    public event Action<JsonObject>? SearchRanked;

    private void OnStateExited(Execution execution, StateExit exit)
    {
        if (execution.StateMachineName == SearchStateMachineName)
        {
            if (exit.StateName == "Rank" && exit.Output is JsonObject ranked && !ranked.ContainsKey("error")) SearchRanked?.Invoke(ranked);
            return;
        }
        // A caught error also leaves the state (its output is the input plus $.error): only a real run state counts.
        if (exit.StateName is not ("Decide" or "Prepare" or "Commit") || exit.Output is not JsonObject output || output.ContainsKey("error")) return;
        var state = output.Deserialize(ContractJson.Default.RunState);
        if (state is null || state.Skip == true || state.Partitions.Length == 0) return;
        _runIds[execution.ExecutionArn] = state.RunId;
        // The run has started once its partition set is complete: at Prepare when it reused one, else at Commit.
        if (state.Partitioning is not null)
        {
            if (exit.StateName == "Prepare" && execution.ParentExecutionArn is null) Partitioning?.Invoke(state);
            return;
        }
        if (exit.StateName == "Decide") RoundCompleted?.Invoke(state);
        else if (execution.ParentExecutionArn is null) Prepared?.Invoke(state);
    }

    /// <summary>Starts the state machine with <paramref name="inputJson"/> (a job spec or any input Prepare accepts)
    /// and waits for the run to end, across continue-as-new executions.</summary>
    public async Task<PipelineResult> RunAsync(string inputJson, string? executionName = null, CancellationToken cancellationToken = default)
    {
        var current = _engine.StartExecution(StateMachineName, inputJson, executionName);
        var executions = new List<ExecutionSummary>();
        string? runId = null;
        Exception? historyError = null;
        ExecutionResult result;
        while (true)
        {
            var execution = current;
            RunHistoryWriter? history = null;
            RunHistoryWriter? Writer() => history ??= (runId ??= _runIds.GetValueOrDefault(execution.ExecutionArn)) is { } id
                ? new RunHistoryWriter(_store, id, execution) : null;
            result = await WaitWithCheckpointsAsync(execution, Writer, e => historyError ??= e, cancellationToken).ConfigureAwait(false);
            // The run's outcome stands even when its history cannot be written: the store went away or filled up.
            if (Writer() is { } writer) await TolerateAsync(() => writer.FlushAsync(result.Status, cancellationToken), e => historyError ??= e).ConfigureAwait(false);
            executions.Add(new ExecutionSummary(execution.Name, execution.ExecutionArn, result.Status, execution.StartTime, execution.QuotaEvents));
            // ContinueAsNew started the next execution before this one ended.
            var next = _engine.Executions.FirstOrDefault(e => e.ParentExecutionArn == execution.ExecutionArn);
            _engine.Forget(execution);
            _runIds.TryRemove(execution.ExecutionArn, out _);
            if (next is null) break;
            current = next;
        }
        // The report Finalize or RecordFailure wrote, again with the worker timeline the history now holds; not for a
        // history too large to load at once (a long run keeps its memory flat; its report keeps Finalize's page).
        if (runId is { } id)
            await TolerateAsync(async () =>
            {
                if (await _store.ExistsAsync(RunLayout.Report(id), cancellationToken).ConfigureAwait(false)
                    && (await _store.ListAsync(RunLayout.HistoryFolder(id), cancellationToken).ConfigureAwait(false)).Sum(o => o.Size) <= MaxHistoryBytesForReport)
                    await Runs.RunReport.WriteAsync(new Runs.RunReader(_store), id, ct: cancellationToken).ConfigureAwait(false);
            }, e => historyError ??= e).ConfigureAwait(false);
        FinalSummary? summary = null;
        if (result.Status == "SUCCEEDED" && result.OutputJson is { } output && JsonNode.Parse(output) is JsonObject o && o.ContainsKey("modelKey"))
            summary = o.Deserialize(ContractJson.Default.FinalSummary);
        return new PipelineResult(result.Status, runId, summary, result.Error, result.Cause, executions, result.OutputJson) { HistoryError = historyError };
    }

    /// <summary>Waits for the execution, writing the history recorded so far every
    /// <see cref="LocalPipelineOptions.HistoryCheckpointInterval"/> once the run id is known (a killed process keeps
    /// the history up to its last checkpoint; written events leave memory).</summary>
    private async Task<ExecutionResult> WaitWithCheckpointsAsync(Execution execution, Func<RunHistoryWriter?> writer, Action<Exception> failed, CancellationToken ct)
    {
        var written = false;
        while (true)
        {
            // Until Prepare has named the run, look often: the first segment goes out as soon as the run id is known.
            var tick = Task.Delay(written ? _checkpointInterval : TimeSpan.FromMilliseconds(50), ct);
            if (await Task.WhenAny(execution.Completion, tick).ConfigureAwait(false) == execution.Completion)
                return await execution.Completion.ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (writer() is { } w)
            {
                await TolerateAsync(() => w.FlushAsync("RUNNING", ct), failed).ConfigureAwait(false);
                written = true;
            }
        }
    }

    // A trial's history goes to its run (stepml history RUN shows it, as for any local run), then leaves memory.
    private async Task ForgetTrialAsync(Execution trial)
    {
        if (_runIds.TryRemove(trial.ExecutionArn, out var runId))
        {
            var status = (await trial.Completion.ConfigureAwait(false)).Status;
            await TolerateAsync(() => new RunHistoryWriter(_store, runId, trial).FlushAsync(status), _ => { }).ConfigureAwait(false);
        }
        _engine.Forget(trial);
    }

    /// <summary>Runs a write of the history or the report; a failure (store down or full) is reported, not thrown:
    /// the run itself decides its outcome.</summary>
    private static async Task TolerateAsync(Func<Task> write, Action<Exception> failed)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failed(e);
        }
    }

    public const string SearchAslFile = "search.asl.json";

    /// <summary>statemachines/train.asl.json (or <paramref name="file"/>) next to the binary (copied at build), else found
    /// upwards from the working directory.</summary>
    public static string FindAsl(string file = "train.asl.json")
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "statemachines", file);
        if (File.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "statemachines", file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"statemachines/{file} was found neither beside the stepml binary nor above the working directory");
    }

    /// <summary>Runs statemachines/search.asl.json with <paramref name="specJson"/> (a search spec with its base job
    /// inline): trials are nested executions of the training machine on this engine. Finished trial executions are
    /// forgotten as the search goes, so memory stays flat over many trials.</summary>
    public async Task<ExecutionResult> SearchAsync(string specJson, CancellationToken cancellationToken = default)
    {
        var search = _engine.StartExecution(SearchStateMachineName, specJson);
        using var registration = cancellationToken.Register(() => search.Stop("States.Aborted", "the search was cancelled"));
        while (true)
        {
            var tick = Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
            if (await Task.WhenAny(search.Completion, tick).ConfigureAwait(false) == search.Completion) break;
            foreach (var done in _engine.Executions.Where(e => e != search && e.Completion.IsCompleted)) await ForgetTrialAsync(done).ConfigureAwait(false);
        }
        var result = await search.Completion.ConfigureAwait(false);
        foreach (var done in _engine.Executions.Where(e => e != search && e.Completion.IsCompleted)) await ForgetTrialAsync(done).ConfigureAwait(false);
        _engine.Forget(search);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
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
            [FunctionArn("Partition")] = new PartitionFunction(context).HandleAsync,
            [FunctionArn("Search")] = new SearchFunction(context).HandleAsync,
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
    /// <summary>The run ledger; null opens the store's default (<see cref="RunLedgers.Open"/>).</summary>
    public IRunLedger? Ledger { get; init; }
    /// <summary>How often a running execution's history is written to the store.</summary>
    public TimeSpan HistoryCheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Decorates the function invoker (tests: delays that shuffle completion order, injected faults).</summary>
    public Func<IFunctionInvoker, IFunctionInvoker>? WrapFunctions { get; init; }
    /// <summary>Bytes per Partition task (default: STEPML_PARTITION_RANGE_MB, else 64 MiB); never changes the partitions.</summary>
    public long? PartitionRangeBytes { get; init; }
}

/// <summary>One execution of a run (its history is in the store, not in memory; <see cref="RunHistory"/> reads it).</summary>
/// <param name="QuotaEvents">Its events that count toward the 25,000-event quota.</param>
public sealed record ExecutionSummary(string Name, string ExecutionArn, string Status, DateTimeOffset StartTime, int QuotaEvents);

/// <param name="Output">The last execution's output (the final summary, or a Skipped state with its reason).</param>
public sealed record PipelineResult(string Status, string? RunId, FinalSummary? Summary, string? Error, string? Cause, IReadOnlyList<ExecutionSummary> Executions,
    string? Output = null)
{
    public bool Succeeded => Status == "SUCCEEDED";

    /// <summary>Why runs/&lt;runId&gt;/history.json could not be written (null when it was, or there is no run).</summary>
    public Exception? HistoryError { get; init; }
}
