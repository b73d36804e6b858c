using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Refuses to prepare an existing run id with another job or on other data (issue 7 §1): a retried Prepare (same
/// spec, same data versions) may redo its work, anything else would mix two runs' objects under one id.
/// </summary>
internal static class RunIdentity
{
    public static async Task CheckAsync(IObjectStore store, string runId, JobSpec job, DatasetRecord record)
    {
        if (await store.ExistsAsync(RunLayout.Job(runId)).ConfigureAwait(false))
        {
            var existing = JobSpecParser.Parse(Encoding.UTF8.GetString(await store.GetAsync(RunLayout.Job(runId)).ConfigureAwait(false)));
            // Prepare and Commit fill in the format, the discovered features and the classes: those may differ.
            existing = existing with
            {
                Dataset = existing.Dataset with { Features = job.Dataset.Features, Format = job.Dataset.Format },
                Model = existing.Model with { Classes = job.Model.Classes, InputShape = job.Model.InputShape },
            };
            var before = JsonNode.Parse(JobSpecParser.ToJson(existing))!.AsObject();
            var after = JsonNode.Parse(JobSpecParser.ToJson(job with { RunId = existing.RunId }))!.AsObject();
            var fields = Differences(before, after, "").ToArray();
            if (fields.Length > 0)
                throw new RunExistsException(runId, store.Uri, $"the job differs in {string.Join(", ", fields)}");
        }

        if (!await store.ExistsAsync(RunLayout.DatasetRecord(runId)).ConfigureAwait(false)) return;
        var trained = JsonSerializer.Deserialize(await store.GetAsync(RunLayout.DatasetRecord(runId)).ConfigureAwait(false), ContractJson.Default.DatasetRecord)!;
        var was = Versions(trained).ToDictionary(v => v.Key, StringComparer.Ordinal);
        var now = Versions(record).ToDictionary(v => v.Key, StringComparer.Ordinal);
        foreach (var (key, version) in now)
        {
            if (!was.TryGetValue(key, out var old))
                throw new RunExistsException(runId, store.Uri, $"'{key}' was not part of the data it trained on");
            if (old.Version != version.Version || old.Size != version.Size)
                throw new RunExistsException(runId, store.Uri, $"'{key}' is now {version.Size} bytes, {version.Version}; the run trained on {old.Size} bytes, {old.Version}");
        }
        foreach (var key in was.Keys.Where(k => !now.ContainsKey(k)))
            throw new RunExistsException(runId, store.Uri, $"'{key}', part of the data it trained on, is gone");
    }

    private static IEnumerable<ObjectVersion> Versions(DatasetRecord record) =>
        record.Files.Concat(record.Test).Concat(record.Labels is null ? [] : [record.Labels]).Concat(record.TestLabels is null ? [] : [record.TestLabels]);

    private static IEnumerable<string> Differences(JsonObject before, JsonObject after, string prefix)
    {
        foreach (var name in before.Select(p => p.Key).Union(after.Select(p => p.Key)))
        {
            var (a, b) = (before[name], after[name]);
            if (a is JsonObject oa && b is JsonObject ob)
            {
                foreach (var inner in Differences(oa, ob, prefix + name + ".")) yield return inner;
            }
            else if (!JsonNode.DeepEquals(a, b))
            {
                yield return prefix + name;
            }
        }
    }
}
