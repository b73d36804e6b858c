using System.Text.Json;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>What a run trained on, for tools outside the loop (the CLI, reports, tests): its dataset record and the
/// keys of its partitions in the content-addressed set.</summary>
public static class RunData
{
    public static async Task<DatasetRecord> RecordAsync(IObjectStore store, string runId, CancellationToken cancellationToken = default) =>
        JsonSerializer.Deserialize(await store.GetAsync(RunLayout.DatasetRecord(runId), cancellationToken).ConfigureAwait(false), ContractJson.Default.DatasetRecord)
            ?? throw new InvalidDataException($"{RunLayout.DatasetRecord(runId)} holds JSON null");

    public static async Task<string> PartitionKeyAsync(IObjectStore store, string runId, int partition, CancellationToken cancellationToken = default) =>
        RunLayout.SetPartition((await RecordAsync(store, runId, cancellationToken).ConfigureAwait(false)).PartitionSet, partition);
}
