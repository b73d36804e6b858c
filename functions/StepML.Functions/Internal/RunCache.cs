using System.Collections.Concurrent;
using System.Text;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Per-container cache of objects that are immutable once written (job.json and dataset.json per run id, which
/// Prepare refuses to change for an existing run; partitions by their content-addressed keys). A warm Lambda container,
/// or the local engine running every worker in one process, reads each once. Bounded in bytes; when full, new
/// partitions are read through without caching.
/// </summary>
internal sealed class RunCache(IObjectStore store, long capacityBytes)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<JobSpec>>> _jobs = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<Partition>>> _partitions = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _sets = new();
    private long _bytes;

    public Task<JobSpec> JobAsync(string runId) =>
        _jobs.GetOrAdd(runId, id => new Lazy<Task<JobSpec>>(() => LoadJobAsync(id))).Value;

    private async Task<JobSpec> LoadJobAsync(string runId)
    {
        var key = RunLayout.Job(runId);
        byte[] bytes;
        try
        {
            bytes = await store.GetAsync(key).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e)
        {
            _jobs.TryRemove(runId, out _);
            throw new RunNotFoundException(runId, store.Uri, e);
        }
        return JobSpecParser.Parse(Encoding.UTF8.GetString(bytes), key); // a damaged job.json in the store: named by its key
    }

    /// <summary>The digest of the run's partition set, from runs/&lt;runId&gt;/dataset.json.</summary>
    public Task<string> PartitionSetAsync(string runId) =>
        _sets.GetOrAdd(runId, id => new Lazy<Task<string>>(() => LoadSetAsync(id))).Value;

    private async Task<string> LoadSetAsync(string runId)
    {
        try
        {
            var bytes = await store.GetAsync(RunLayout.DatasetRecord(runId)).ConfigureAwait(false);
            return System.Text.Json.JsonSerializer.Deserialize(bytes, ContractJson.Default.DatasetRecord)!.PartitionSet;
        }
        catch (Exception e)
        {
            _sets.TryRemove(runId, out _);
            if (e is ObjectNotFoundException) throw new RunNotFoundException(runId, store.Uri, e);
            throw;
        }
    }

    /// <summary>Training partition <paramref name="partition"/> of the run's set. Partition keys are content-addressed
    /// (partitions/&lt;digest&gt;/...), so a cached partition is never another version's data.</summary>
    public async Task<Partition> RunPartitionAsync(string runId, int partition) =>
        await PartitionAsync(RunLayout.SetPartition(await PartitionSetAsync(runId).ConfigureAwait(false), partition)).ConfigureAwait(false);

    public async Task<Partition> ValidationAsync(string runId) =>
        await PartitionAsync(RunLayout.SetValidation(await PartitionSetAsync(runId).ConfigureAwait(false))).ConfigureAwait(false);

    public async Task<Partition> TestAsync(string runId) =>
        await PartitionAsync(RunLayout.SetTest(await PartitionSetAsync(runId).ConfigureAwait(false))).ConfigureAwait(false);

    public Task<Partition> PartitionAsync(string key)
    {
        if (_partitions.TryGetValue(key, out var cached)) return cached.Value;
        if (Interlocked.Read(ref _bytes) >= capacityBytes) return LoadPartitionAsync(key, cache: false);
        return _partitions.GetOrAdd(key, k => new Lazy<Task<Partition>>(() => LoadPartitionAsync(k, cache: true))).Value;
    }

    private async Task<Partition> LoadPartitionAsync(string key, bool cache)
    {
        try
        {
            var bytes = await store.GetAsync(key).ConfigureAwait(false);
            var partition = Partition.Decode(bytes, key);
            if (cache) Interlocked.Add(ref _bytes, bytes.LongLength);
            return partition;
        }
        catch
        {
            _partitions.TryRemove(key, out _);
            throw;
        }
    }
}

/// <summary>No run with this id exists in the store (job.json is missing).</summary>
public sealed class RunNotFoundException(string runId, string store, Exception inner)
    : Exception($"run '{runId}' does not exist in {store} (no job.json): check the run id and the store (stepml runs --store STORE lists the runs), or start a run with a job spec", inner);
