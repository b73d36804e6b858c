using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// Content-addressed partition sets (DESIGN.md, "Runs and data"): the digest covers the version of every input
/// object and every parameter that shapes the partitions, so two runs that agree on them share one set, and a set
/// (or a cache entry keyed by its keys) can never hold another version's data.
/// </summary>
internal static class PartitionSets
{
    /// <summary>Bump when the bytes a set holds change for the same inputs (row assignment, file format).</summary>
    private const int LayoutVersion = 1;

    public static string Digest(JobSpec job, string format, LabelMapping labels, DatasetRecord record)
    {
        var d = job.Dataset;
        var canonical = new JsonObject
        {
            ["layout"] = LayoutVersion,
            ["format"] = format,
            ["features"] = d.Features,
            ["partitions"] = d.Partitions,
            ["validationFraction"] = d.ValidationFraction,
            ["seed"] = job.Seed,
            ["sparse"] = d.Sparse,
            ["partitionWeights"] = d.PartitionWeights is null ? null : new JsonArray(d.PartitionWeights.Select(w => (JsonNode?)w).ToArray()),
            ["labelMapping"] = labels.ToString(),
            ["csvHeader"] = d.CsvHeader,
            ["files"] = Versions(record.Files),
            ["labels"] = Versions(record.Labels is null ? [] : [record.Labels]),
            ["test"] = Versions(record.Test),
            ["testLabels"] = Versions(record.TestLabels is null ? [] : [record.TestLabels]),
        };
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToJsonString()));
        return Convert.ToHexStringLower(hash)[..32];
    }

    private static JsonArray Versions(IEnumerable<ObjectVersion> versions) =>
        new(versions.Select(v => (JsonNode?)new JsonObject { ["key"] = v.Key, ["size"] = v.Size, ["version"] = v.Version }).ToArray());

    /// <summary>The objects of a dataset path: one object, or every object under a prefix ending in '/' (sidecar job
    /// files excluded), in ordinal key order, each with its version.</summary>
    public static async Task<ObjectVersion[]> ListAsync(IObjectStore store, string path, string field)
    {
        if (path.EndsWith('/'))
        {
            ObjectKey.Validate(path.TrimEnd('/'), field);
            var listed = await store.ListAsync(path).ConfigureAwait(false);
            var keys = listed.Where(o => !o.Key.EndsWith(".job.json", StringComparison.Ordinal)).Select(o => o.Key).ToArray();
            if (keys.Length == 0)
                throw new JobSpecException(field, $"no objects under the prefix '{path}' in {store.Uri}: upload the dataset's files there or fix the path");
            var versions = new ObjectVersion[keys.Length];
            for (var i = 0; i < keys.Length; i++) versions[i] = await store.VersionAsync(keys[i]).ConfigureAwait(false);
            return versions;
        }
        return [await VersionAsync(store, ObjectKey.Validate(path, field), field, "the dataset").ConfigureAwait(false)];
    }

    public static async Task<ObjectVersion> VersionAsync(IObjectStore store, string key, string field, string what)
    {
        try
        {
            return await store.VersionAsync(key).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            throw new JobSpecException(field, $"no object '{key}' in {store.Uri}: upload {what} there or fix the path");
        }
    }

    /// <summary>Looks at the first bytes of every text file before any range is planned: a compressed, binary,
    /// UTF-16, empty or wrongly named file fails here with <see cref="TextSniffer"/>'s message (a compressed stream has
    /// no byte ranges to split, so gzip is refused with the fix: decompress it).</summary>
    public static async Task SniffAsync(IObjectStore store, IEnumerable<ObjectVersion> files, DatasetFormat format)
    {
        foreach (var file in files)
        {
            if (file.Size == 0) throw Partitioner.NoRows(file.Key, 0);
            var head = await store.GetRangeAsync(file.Key, 0, (int)Math.Min(file.Size, TextSniffer.HeadBytes)).ConfigureAwait(false);
            TextSniffer.Check(head, file.Key, format, complete: file.Size <= TextSniffer.HeadBytes);
        }
    }

    public static async Task<T> ReadAsync<T>(IObjectStore store, string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var bytes = await store.GetAsync(key).ConfigureAwait(false);
        return JsonSerializer.Deserialize(bytes, type) ?? throw new InvalidDataException($"'{key}' holds JSON null");
    }

    public static Task WriteAsync<T>(IObjectStore store, string key, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, type));

    /// <summary>Removes the intermediate pieces and range records of a complete set (best effort: <c>stepml gc</c>
    /// removes what is left), unless another run planned on the same set while it was being made and has not
    /// committed yet: its Assemble tasks may still read the pieces (two runs of one dataset started together make the
    /// same set; the pieces are identical). Those pieces are left to <c>stepml gc</c> and the bucket's lifecycle rule.</summary>
    public static async Task DeleteScratchAsync(IObjectStore store, string digest, string? committingRun)
    {
        var pendingPrefix = RunLayout.PartitionSet(digest) + "/pending/";
        foreach (var info in await store.ListAsync(pendingPrefix).ConfigureAwait(false))
        {
            var other = info.Key[pendingPrefix.Length..^".json".Length];
            if (other != committingRun && !await store.ExistsAsync(RunLayout.DatasetRecord(other)).ConfigureAwait(false)) return;
        }
        foreach (var prefix in new[] { RunLayout.SetPieces(digest), RunLayout.SetRanges(digest) })
            foreach (var info in await store.ListAsync(prefix).ConfigureAwait(false))
                await store.DeleteAsync(info.Key).ConfigureAwait(false);
    }
}
