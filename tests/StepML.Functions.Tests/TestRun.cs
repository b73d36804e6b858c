using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Storage;

namespace StepML.Functions.Tests;

/// <summary>A clock that stands still unless a test moves it.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    // Durations the steps measure (their billed seconds) stand still too, so a retried step returns the same state.
    public override long GetTimestamp() => Now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}

/// <summary>
/// A FileObjectStore in a fresh temp folder with a small generated dataset at <see cref="DatasetKey"/>, a
/// FunctionContext over it, and helpers that drive the steps the way the state machine does.
/// </summary>
internal sealed class TestRun : IDisposable
{
    public const string DatasetKey = "datasets/small.libsvm";
    public const int Features = 6;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("stepml-functions-tests-");

    public TestRun()
    {
        Store = new FileObjectStore(_folder.FullName);
        Time = new ManualTime(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Context = new FunctionContext(new FunctionSettings(_folder.FullName), Store, Time);
        var text = new StringWriter();
        SyntheticData.WriteHiggsLike(text, rows: 600, features: Features, seed: 7);
        Store.PutAsync(DatasetKey, Encoding.UTF8.GetBytes(text.ToString())).GetAwaiter().GetResult();
    }

    public FileObjectStore Store { get; }
    public ManualTime Time { get; }
    public FunctionContext Context { get; }

    /// <summary>A job spec for the test dataset; <paramref name="extra"/> is spliced into the top-level object and
    /// <paramref name="communication"/> into the communication object.</summary>
    public static string Job(string runId = "run-1", string algorithm = "ga-sgd", int partitions = 3, string pattern = "all-reduce",
        int shards = 1, string extra = "", string communication = "") =>
        $$"""
        {
          "name": "unit", "runId": "{{runId}}", "seed": 5,
          "dataset": { "path": "{{DatasetKey}}", "partitions": {{partitions}}, "validationFraction": 0.2 },
          "algorithm": { "type": "{{algorithm}}", "learningRate": 0.5, "batchSize": 0, "rho": 0.5 },
          "communication": { "pattern": "{{pattern}}", "shards": {{shards}}{{communication}} },
          "stop": { "maxRounds": 50, "tolerance": 0 }{{extra}}
        }
        """;

    /// <summary>Prepare, then (when it planned ranges) Partition, Summarize, Assemble and Commit, as the state machine
    /// sequences them.</summary>
    public async Task<RunState> PrepareAsync(string json) => await PartitionAsync(await PrepareStep.RunAsync(Context, JsonNode.Parse(json)!));

    /// <summary>The key of a run's partition (<c>0.part</c> ... or <c>validation.part</c>) in its content-addressed set.</summary>
    public async Task<string> PartitionKeyAsync(string name, string runId = "run-1") =>
        $"{RunLayout.PartitionSet((await RunData.RecordAsync(Store, runId)).PartitionSet)}/{name}";

    public async Task<RunState> PartitionAsync(RunState state)
    {
        if (state.Partitioning is not { } plan) return state;
        foreach (var range in plan.Ranges) await PartitionStep.RunAsync(Context, new PartitionInput(plan.Set, Range: range));
        await PartitionStep.RunAsync(Context, new PartitionInput(plan.Set, Summarize: true));
        foreach (var output in plan.Outputs) await PartitionStep.RunAsync(Context, new PartitionInput(plan.Set, Output: output));
        return await CommitStep.RunAsync(Context, state);
    }

    public async Task<WorkerOutput[]> WorkAsync(RunState state) =>
        await Task.WhenAll(state.Partitions.Select(p => WorkerStep.RunAsync(Context, new WorkerInput(state.RunId, state.Round, p))));

    public async Task<MergeOutput[]> MergeAsync(RunState state, WorkerOutput[] workers)
    {
        var merged = new List<MergeOutput>();
        foreach (var shard in state.Shards)
            merged.Add(await MergeStep.RunAsync(Context, new MergeInput(state.RunId, state.Round, shard, workers)));
        return [.. merged];
    }

    /// <summary>Tree aggregation as the ASL's level loop runs it: each level's groups in turn (Prepare's state.Tree).</summary>
    public async Task<MergeOutput[]> TreeMergeAsync(RunState state, WorkerOutput[] workers)
    {
        var tree = state.Tree ?? throw new InvalidOperationException("the run does not use the tree pattern");
        MergeOutput[] last = [];
        for (var level = 0; level <= tree.Last; level++)
            last = await Task.WhenAll(tree.Levels[level].Select(g => MergeStep.RunAsync(Context, new MergeInput(state.RunId, state.Round, 0, workers, level, g))));
        return last;
    }

    /// <summary>Workers, Merge and Decide for one round, as the state machine sequences them.</summary>
    public async Task<RunState> RoundAsync(RunState state)
    {
        var workers = await WorkAsync(state);
        var merged = await MergeAsync(state, workers);
        return await DecideStep.RunAsync(Context, state with { Workers = workers, Merged = merged });
    }

    public Task<byte[]> GetAsync(string key) => Store.GetAsync(key);

    public Task<bool> ExistsAsync(string key) => Store.ExistsAsync(key);

    public async Task<string[]> KeysAsync(string prefix) => (await Store.ListAsync(prefix)).Select(o => o.Key).ToArray();

    public static JsonDocument Parse(byte[] bytes) => JsonDocument.Parse(bytes);

    public void Dispose() => _folder.Delete(recursive: true);
}
