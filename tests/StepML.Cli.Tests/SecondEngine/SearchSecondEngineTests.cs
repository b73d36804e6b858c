using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Functions.Search;
using StepML.Storage;

namespace StepML.Cli.Tests.SecondEngine;

/// <summary>statemachines/search.asl.json on the second engine (run.mjs --search: aws-local-stepfunctions, handlers over
/// the Lambda Invoke API, the startExecution.sync:2 Train state emulated by running the training machine there too)
/// against the embedded engine: the same spec must give the same trials, rung by rung, bit for bit.</summary>
public sealed class SearchSecondEngineTests
{
    private static readonly TimeSpan s_nodeTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task RunMjs_SuccessiveHalvingSearch_SameTrialsRungsAndBestAsLocalEngine()
    {
        using var second = await TempStore.CreateAsync(rows: 4_000, features: 28, seed: 3);
        using var local = await second.CloneDatasetAsync();
        var job = JsonNode.Parse(Jobs.HiggsJob("unused", "admm", partitions: 2, shards: 1, maxRounds: 3))!.AsObject();
        job.Remove("runId");
        var spec = new JsonObject
        {
            ["name"] = "engines",
            ["job"] = job,
            ["parameters"] = new JsonObject { ["algorithm.rho"] = new JsonArray(0.01, 0.1, 1.0) },
            ["strategy"] = new JsonObject { ["type"] = "successive-halving", ["minRounds"] = 1, ["reduction"] = 3 },
            ["budget"] = new JsonObject { ["rounds"] = 3 },
            ["maxConcurrency"] = 2,
        }.ToJsonString();

        Repo.RequireNodePackage("aws-local-stepfunctions");
        var specFile = Path.Combine(second.Root, "..", Path.GetFileName(second.Root) + ".search.json");
        await File.WriteAllTextAsync(specFile, spec);
        ProcessResult remote;
        string log;
        try
        {
            await using var server = await InProcessLambdaServer.StartAsync(second.Store);
            remote = await Processes.RunAsync("node", [Repo.RunScript, "--endpoint", server.BaseAddress.ToString(), "--search", specFile], s_nodeTimeout);
            log = server.Log.ToString();
        }
        finally
        {
            File.Delete(specFile);
        }
        var embedded = await new LocalPipeline(local.Store, new LocalPipelineOptions { Concurrency = 2 }).SearchAsync(spec);

        Assert.True(remote.ExitCode == 0, $"run.mjs failed: {remote}");
        Assert.True(embedded.Status == "SUCCEEDED", $"{embedded.Error}: {embedded.Cause}");
        var remoteResult = JsonSerializer.Deserialize(remote.StandardOutput, SearchJson.Default.SearchResult)!;
        var localResult = JsonSerializer.Deserialize(embedded.OutputJson!, SearchJson.Default.SearchResult)!;
        var remoteTable = JsonSerializer.Deserialize(await second.Store.GetAsync(remoteResult.TrialsKey), SearchJson.Default.TrialTable)!;
        var localTable = JsonSerializer.Deserialize(await local.Store.GetAsync(localResult.TrialsKey), SearchJson.Default.TrialTable)!;

        Assert.Equal(1 + 1 + 3, remoteResult.TotalRounds); // 3 trials trained 1 round, the best on to 3
        Assert.Equal(localResult.TotalRounds, remoteResult.TotalRounds);
        Assert.Equal(localResult.Best!.Trial, remoteResult.Best!.Trial);
        Assert.Equal(localResult.Best.ValidationLoss, remoteResult.Best.ValidationLoss);
        Assert.Equal(localTable.Batches, remoteTable.Batches);
        for (var i = 0; i < 3; i++)
            Assert.Equal(localTable.Trials[i].Rungs.Select(r => (r.Rung, r.Rounds, r.ValidationLoss)), remoteTable.Trials[i].Rungs.Select(r => (r.Rung, r.Rounds, r.ValidationLoss)));
        // One partition set, made once (one byte range, Summarize, Assemble of 2 partitions and validation) by the
        // first trial, which Plan launches alone; Plan, a Rank after each of the 3 batches, and Finish.
        Assert.Single(await second.Store.ListAsync("partitions/"), o => o.Key.EndsWith("/manifest.json", StringComparison.Ordinal));
        Assert.Equal(1 + 1 + 3, log.Split('\n').Count(l => l.StartsWith("stepml-Partition  200 ", StringComparison.Ordinal)));
        Assert.Equal(1 + 3 + 1, log.Split('\n').Count(l => l.StartsWith("stepml-Search  200 ", StringComparison.Ordinal)));
    }
}
