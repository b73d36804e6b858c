namespace StepML.Storage;

/// <summary>The storage layout of a run (see DESIGN.md, "Storage layout"); the one place keys are spelled.</summary>
public static class RunLayout
{
    public static string Root(string runId) => $"runs/{ObjectKey.ValidateRunId(runId)}";
    public static string Job(string runId) => $"{Root(runId)}/job.json";
    /// <summary>The dataset versions the run trained on and the partition set it uses (written by Prepare).</summary>
    public static string DatasetRecord(string runId) => $"{Root(runId)}/dataset.json";
    /// <summary>Round statistics, merged shards and optimizer state: scratch once the run has finished (<c>stepml gc</c>).</summary>
    public static string Rounds(string runId) => $"{Root(runId)}/rounds/";
    public static string Model(string runId, long round) => $"{Root(runId)}/model/{round}.tensor";
    public static string FinalModel(string runId) => $"{Root(runId)}/model/final.tensor";
    public static string FinalSummary(string runId) => $"{Root(runId)}/model/final.json";
    public static string Statistic(string runId, long round, int partition) => $"{Root(runId)}/rounds/{round}/stats/{partition}.tensor";
    public static string Merged(string runId, long round, int shard) => $"{Root(runId)}/rounds/{round}/merged/{shard}.tensor";
    /// <summary>Tree aggregation: the partial result of merger <paramref name="group"/> of <paramref name="level"/>.</summary>
    public static string TreePartial(string runId, long round, int level, int group) => $"{Root(runId)}/rounds/{round}/tree/{level}/{group}.tensor";
    /// <summary>Asynchronous training: the register naming the current model version (see <see cref="Channels.AtomicModel"/>).</summary>
    public static string AsyncHead(string runId) => $"{Root(runId)}/rounds/async/head";
    /// <summary>Asynchronous training: one model version (the model and its optimizer state), written once by the worker
    /// that proposes it; <paramref name="nonce"/> keeps two workers proposing the same version apart.</summary>
    public static string AsyncModel(string runId, long version, string nonce) => $"{Root(runId)}/rounds/async/model/{version}-{nonce}.tensor";
    public static string Optimizer(string runId, long round, int shard) => $"{Root(runId)}/rounds/{round}/optimizer/{shard}.tensor";
    /// <summary>Worker-local state written in <paramref name="round"/>. Keyed by round (not overwritten) so that a
    /// retried worker reads the same input state as its first attempt.</summary>
    public static string WorkerState(string runId, int partition, long round) => $"{Root(runId)}/workers/{partition}/{round}.tensor";
    /// <summary>Asynchronous training: how many updates one worker has applied (and how many of them conflicted),
    /// rewritten after each of its invocations, so a resumed run continues each worker's count instead of starting it over.</summary>
    public static string AsyncProgress(string runId, int partition) => $"{Root(runId)}/workers/{partition}/async-progress.json";
    /// <summary>Decide's record of one round (not under rounds/, whose statistics expire and are collected).</summary>
    public static string Record(string runId, long round) => $"{Root(runId)}/records/{round}.json";
    public static string Records(string runId) => $"{Root(runId)}/records/";
    public static string Metrics(string runId) => $"{Root(runId)}/metrics.jsonl";
    /// <summary>Segment <paramref name="segment"/> of one execution's history: the events recorded since the previous
    /// segment, written as the execution runs (a killed run keeps its history). Keys sort in start order.</summary>
    public static string History(string runId, DateTimeOffset started, string executionName, int segment) =>
        $"{Root(runId)}/history/{started.UtcDateTime:yyyyMMdd'T'HHmmssfffffff}-{ObjectKey.ValidateRunId(executionName, "execution name")}/{segment:D6}.json";
    public static string HistoryFolder(string runId) => $"{Root(runId)}/history/";
    public static string Report(string runId) => $"{Root(runId)}/report.html";
    public static string Failure(string runId) => $"{Root(runId)}/failure.json";
    /// <summary>Where a resume moves failure.json (so the run reads as running again and the error stays readable).</summary>
    public static string PastFailure(string runId, DateTimeOffset failed) => $"{Root(runId)}/failures/{failed.UtcDateTime:yyyyMMdd'T'HHmmssfff}.json";
    public const string RunsPrefix = "runs/";

    // Partition sets (DESIGN.md, "Runs and data"): immutable, content-addressed by PartitionSetDigest, shared by runs.
    public const string PartitionSetsPrefix = "partitions/";
    public static string PartitionSet(string digest) => $"{PartitionSetsPrefix}{ValidateDigest(digest)}";
    public static string SetPartition(string digest, int partition) => $"{PartitionSet(digest)}/{partition}.part";
    public static string SetValidation(string digest) => $"{PartitionSet(digest)}/validation.part";
    /// <summary>The job's test split (dataset.testPath), evaluated once by Finalize.</summary>
    public static string SetTest(string digest) => $"{PartitionSet(digest)}/test.part";
    /// <summary>Written last: a set is complete (and reusable) exactly when its manifest exists.</summary>
    public static string SetManifest(string digest) => $"{PartitionSet(digest)}/manifest.json";
    /// <summary>The files, range size and options the Partition tasks read.</summary>
    public static string SetPlan(string digest) => $"{PartitionSet(digest)}/plan.json";
    public static string SetRangeSummary(string digest, int range) => $"{PartitionSet(digest)}/ranges/{range}.json";
    public static string SetRanges(string digest) => $"{PartitionSet(digest)}/ranges/";
    public static string SetSummary(string digest) => $"{PartitionSet(digest)}/summary.json";
    /// <summary>One range's rows for one output (a partition, or validation = the partition count), as spill records.</summary>
    public static string SetPiece(string digest, int range, int output) => $"{PartitionSet(digest)}/pieces/{range}/{output}.piece";
    public static string SetPieces(string digest) => $"{PartitionSet(digest)}/pieces/";
    /// <summary>A run waiting for this set: its job and data versions, kept here (not under runs/) so a run whose
    /// partitioning fails leaves nothing under its id.</summary>
    public static string SetPendingRun(string digest, string runId) => $"{PartitionSet(digest)}/pending/{ObjectKey.ValidateRunId(runId)}.json";

    /// <summary>The digest from a key under <see cref="PartitionSetsPrefix"/>, or null.</summary>
    public static string? DigestOf(string key)
    {
        if (!key.StartsWith(PartitionSetsPrefix, StringComparison.Ordinal)) return null;
        var rest = key[PartitionSetsPrefix.Length..];
        var slash = rest.IndexOf('/');
        return slash > 0 ? rest[..slash] : null;
    }

    private static string ValidateDigest(string digest) =>
        digest.Length == 32 && digest.All(char.IsAsciiHexDigitLower)
            ? digest
            : throw new ArgumentException($"'{digest}' is not a partition set digest (32 lower-case hex digits)", nameof(digest));
}
