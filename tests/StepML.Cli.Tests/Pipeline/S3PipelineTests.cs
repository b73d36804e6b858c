using StepML.Storage;
using StepML.Storage.S3;
using StepML.Storage.Tests.S3;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>The local engine runs the training loop against S3 (a real S3-protocol server on loopback) exactly as
/// against a folder: same keys, same bytes.</summary>
public sealed class S3PipelineTests(PipelineFixture data, S3rverFixture s3, StepML.Storage.Tests.Ledger.DynaliteFixture dynamo)
    : IClassFixture<PipelineFixture>, IClassFixture<S3rverFixture>, IClassFixture<StepML.Storage.Tests.Ledger.DynaliteFixture>
{
    [Fact]
    public async Task Run_OnS3StoreWithPrefix_GivesTheSameModelsAsTheFolderStore()
    {
        var bucket = s3.CreateBucket();
        var store = new S3ObjectStore(s3.Client, S3StoreLocation.Parse($"s3://{bucket}/team-a?endpoint={s3.Endpoint}"));
        await using (var file = File.OpenRead(data.DatasetFile))
            await store.PutAsync(PipelineFixture.DatasetKey, file);
        var folder = data.NewStore();
        var job = PipelineFixture.Job("admm", shards: 2, maxRounds: 3);

        var onS3 = await PipelineFixture.RunAsync(store, job,
            new LocalPipelineOptions { Ledger = new StepML.Storage.Ledger.DynamoDbRunLedger(dynamo.Client, dynamo.CreateTable()) });
        var onFolder = await PipelineFixture.RunAsync(folder, job);

        Assert.True(onS3.Succeeded, $"{onS3.Error}: {onS3.Cause}");
        Assert.True(onFolder.Succeeded);
        // History segments are named by their execution (start time and name) and written by time: compared as executions.
        static bool IsHistory(string key) => key.StartsWith(RunLayout.HistoryFolder("test-run"), StringComparison.Ordinal);
        var s3Keys = (await store.ListAsync("runs/test-run/")).Select(o => o.Key).ToList();
        var folderKeys = (await folder.ListAsync("runs/test-run/")).Select(o => o.Key).ToList();
        Assert.Equal(folderKeys.Where(k => !IsHistory(k)), s3Keys.Where(k => !IsHistory(k)));
        Assert.Single((await RunHistory.ReadAsync(folder, "test-run"))!["executions"]!.AsArray());
        Assert.Single((await RunHistory.ReadAsync(store, "test-run"))!["executions"]!.AsArray());
        // Tensors are bit-identical; final.json differs only in its elapsed time.
        foreach (var key in folderKeys.Where(k => k.EndsWith(".tensor", StringComparison.Ordinal)))
            Assert.Equal(await folder.GetAsync(key), await store.GetAsync(key));
        // The prefix holds everything: nothing was written at the bucket's root.
        var everything = await s3.Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket });
        Assert.All(everything.S3Objects, o => Assert.StartsWith("team-a/", o.Key));
    }
}
