namespace StepML.Storage;

/// <summary>The storage layout of a run (see DESIGN.md, "Storage layout"); the one place keys are spelled.</summary>
public static class RunLayout
{
    public static string Root(string runId) => $"runs/{ObjectKey.ValidateRunId(runId)}";
    public static string Job(string runId) => $"{Root(runId)}/job.json";
    public static string Partition(string runId, int partition) => $"{Root(runId)}/partitions/{partition}.part";
    public static string Validation(string runId) => $"{Root(runId)}/partitions/validation.part";
    /// <summary>The job's test split (dataset.testPath), evaluated once by Finalize.</summary>
    public static string Test(string runId) => $"{Root(runId)}/partitions/test.part";
    public static string Model(string runId, long round) => $"{Root(runId)}/model/{round}.tensor";
    public static string FinalModel(string runId) => $"{Root(runId)}/model/final.tensor";
    public static string FinalSummary(string runId) => $"{Root(runId)}/model/final.json";
    public static string Statistic(string runId, long round, int partition) => $"{Root(runId)}/rounds/{round}/stats/{partition}.tensor";
    public static string Merged(string runId, long round, int shard) => $"{Root(runId)}/rounds/{round}/merged/{shard}.tensor";
    /// <summary>Tree aggregation: the partial result of merger <paramref name="group"/> of <paramref name="level"/>.</summary>
    public static string TreePartial(string runId, long round, int level, int group) => $"{Root(runId)}/rounds/{round}/tree/{level}/{group}.tensor";
    public static string Optimizer(string runId, long round, int shard) => $"{Root(runId)}/rounds/{round}/optimizer/{shard}.tensor";
    /// <summary>Worker-local state written in <paramref name="round"/>. Keyed by round (not overwritten) so that a
    /// retried worker reads the same input state as its first attempt.</summary>
    public static string WorkerState(string runId, int partition, long round) => $"{Root(runId)}/workers/{partition}/{round}.tensor";
    public static string Metrics(string runId) => $"{Root(runId)}/metrics.jsonl";
    public static string History(string runId) => $"{Root(runId)}/history.json";
    public static string Report(string runId) => $"{Root(runId)}/report.html";
    public static string Failure(string runId) => $"{Root(runId)}/failure.json";
}
