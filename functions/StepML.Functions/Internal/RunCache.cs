using System.Collections.Concurrent;
using System.Text;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Per-container cache of objects that are immutable once written (job.json, partitions). A warm Lambda container,
/// or the local engine running every worker in one process, reads each once. Bounded in bytes; when full, new
/// partitions are read through without caching.
/// </summary>
internal sealed class RunCache(IObjectStore store, long capacityBytes)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<JobSpec>>> _jobs = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<Partition>>> _partitions = new();
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
        return JobSpecParser.Parse(Encoding.UTF8.GetString(bytes));
    }

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
    : Exception($"run '{runId}' does not exist in {store} (no job.json): start it with a job spec first", inner);
