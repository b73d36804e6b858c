using System.Text.Json.Nodes;
using StepML.Cli.Commands;
using StepML.Storage;

namespace StepML.Cli.Tests.SecondEngine;

/// <summary>
/// The ASL on a second engine: tests/second-engine/run.mjs runs statemachines/train.asl.json on aws-local-stepfunctions,
/// whose Lambda tasks reach the handlers through <c>stepml serve-lambda</c> over the Lambda Invoke API; the same job
/// then runs on the embedded engine (LocalPipeline) in a second store, and the two runs must agree bit for bit.
/// Both engines are driven by the same file, so a difference means one of them misreads the ASL (or a handler depends
/// on something other than its input and the store). What that engine ignores of the ASL (Distributed Map mode,
/// ToleratedFailurePercentagePath, the startExecution integration, ...) and how run.mjs copes is listed at the top of
/// run.mjs; none of it changes these jobs: tolerated failures are 0% here, and continue-as-new is emulated there.
/// </summary>
public sealed class SecondEngineTests
{
    private const string RunId = "second-engine";
    private static readonly TimeSpan s_nodeTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task RunMjs_ScatterReduceAdmmJob_ModelsBitIdenticalToLocalPipeline()
    {
        var job = Jobs.HiggsJob(RunId, "admm", partitions: 4, shards: 2, maxRounds: 3);
        await AssertEnginesAgreeAsync(job, expectedRounds: 3, expectedExecutions: 1);
    }

    /// <summary>roundsPerExecution 2 makes Decide answer continue-as-new twice: the second engine has no
    /// states:startExecution integration, so run.mjs stands in for it (see its header); LocalPipeline follows its own.</summary>
    [Fact]
    public async Task RunMjs_JobThatContinuesAsNew_ModelsBitIdenticalToLocalPipeline()
    {
        var job = Jobs.HiggsJob(RunId, "ma-sgd", partitions: 4, shards: 2, maxRounds: 5, roundsPerExecution: 2);
        await AssertEnginesAgreeAsync(job, expectedRounds: 5, expectedExecutions: 3);
    }

    /// <summary>Tree aggregation runs a loop of Map states over levels (Pass, Map, Choice with NumericEqualsPath,
    /// States.ArrayGetItem and States.MathAdd): 9 partitions with fan-in 2 make levels of 5, 3, 2 and 1 mergers; drops
    /// make some groups empty.</summary>
    [Fact]
    public async Task RunMjs_TreeJobWithDrops_ModelsBitIdenticalToLocalPipeline()
    {
        var job = JsonNode.Parse(Jobs.HiggsJob(RunId, "ga-sgd", partitions: 9, shards: 1, maxRounds: 3))!;
        job["communication"] = new JsonObject { ["pattern"] = "tree", ["fanIn"] = 2, ["dropRate"] = 0.3 };
        await AssertEnginesAgreeAsync(job.ToJsonString(), expectedRounds: 3, expectedExecutions: 1, workersPerRound: 9, mergersPerRound: 5 + 3 + 2 + 1);
    }

    /// <summary>Asynchronous training is not reproducible bit for bit, so the engines are not compared: the second one
    /// must run the AsyncWorkers branch (the Choice, the per-partition AsyncWork loop, Decide) and apply every update.</summary>
    [Fact]
    public async Task RunMjs_AsyncJob_RunsTheLoopAndAppliesEveryWorkerStep()
    {
        using var second = await TempStore.CreateAsync(rows: 4_000, features: 28, seed: 3);
        var job = JsonNode.Parse(Jobs.HiggsJob(RunId, "ga-sgd", partitions: 4, shards: 1, maxRounds: 5))!;
        job["communication"] = new JsonObject { ["synchronization"] = "async" };

        var (remote, log) = await RunSecondEngineAsync(second, job.ToJsonString());

        Assert.True(remote.ExitCode == 0, $"run.mjs failed: {remote}");
        var output = JsonNode.Parse(remote.StandardOutput)!;
        Assert.Equal(1, output["rounds"]!.GetValue<int>());
        Assert.StartsWith("asynchronous: 20 updates applied (20 worker steps", output["stopReason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(CountInvocations(log, "stepml-Worker") >= 4, "every partition's AsyncWork ran");
        Assert.Equal(0, CountInvocations(log, "stepml-Merge"));
        Assert.Equal(1, CountInvocations(log, "stepml-Decide"));
        Assert.Equal(1, CountInvocations(log, "stepml-Finalize"));
    }

    [Fact]
    public async Task RunMjs_MalformedLibSvmLine_FailsInPartitioningWithSameErrorAsLocalPipeline()
    {
        using var second = await TempStore.CreateAsync(rows: 600, features: 8, seed: 5, malformedLine: 321);
        using var local = await second.CloneDatasetAsync();
        var job = Jobs.HiggsJob(RunId, "admm", partitions: 4, shards: 2, maxRounds: 3, features: 8);

        var message = await AssertBothFailAsync(second, local, job, "DatasetFormatException");

        Assert.Contains(":321:", message, StringComparison.Ordinal);
        Assert.Empty(await second.Store.ListAsync($"runs/{RunId}/model/"));
    }

    /// <summary>A learning rate far too large: Decide throws after round 1 from inside the loop, past two Maps, and
    /// both engines must keep the same last good models.</summary>
    [Fact]
    public async Task RunMjs_DivergingJob_FailsInDecideWithSameErrorAndSameLastGoodModels()
    {
        using var second = await TempStore.CreateAsync(rows: 4_000, features: 28, seed: 3);
        using var local = await second.CloneDatasetAsync();
        var job = JsonNode.Parse(Jobs.HiggsJob(RunId, "ga-sgd", partitions: 4, shards: 2, maxRounds: 10))!;
        job["algorithm"]!["learningRate"] = 1000.0;

        var message = await AssertBothFailAsync(second, local, job.ToJsonString(), "TrainingDivergedException");

        Assert.Contains("lower algorithm.learningRate", message, StringComparison.Ordinal);
        await AssertSameModelsAsync(second, local, expectedCount: 2);
    }

    /// <returns>The handler's error message, as the embedded engine reports it.</returns>
    private static async Task<string> AssertBothFailAsync(TempStore second, TempStore local, string job, string expectedError)
    {
        var (remote, _) = await RunSecondEngineAsync(second, job);
        var pipeline = await new LocalPipeline(local.Store).RunAsync(job);

        Assert.True(remote.ExitCode == 1, $"run.mjs should fail the execution: {remote}");
        var failure = JsonNode.Parse(remote.StandardOutput)!;
        Assert.Equal("FAILED", failure["status"]!.GetValue<string>());
        Assert.Equal("FAILED", pipeline.Status);
        Assert.Equal(expectedError, pipeline.Error);
        Assert.Equal(pipeline.Error, failure["error"]!.GetValue<string>());
        // Causes are formatted by each engine (AWS-style JSON locally, "Type: message" there); the handler's message
        // must reach both intact, over HTTP in the second case.
        var message = RunCommand.CauseMessage(pipeline.Cause);
        Assert.Contains(message, failure["cause"]!.GetValue<string>(), StringComparison.Ordinal);
        // RecordFailure ran in both (the Catch -> RecordFailure -> Fail path) and left the same error in the store.
        var secondRecord = JsonNode.Parse(await second.Store.GetAsync(RunLayout.Failure(RunId)))!;
        var localRecord = JsonNode.Parse(await local.Store.GetAsync(RunLayout.Failure(RunId)))!;
        Assert.Equal(expectedError, secondRecord["error"]!.GetValue<string>());
        Assert.Equal(localRecord["error"]!.GetValue<string>(), secondRecord["error"]!.GetValue<string>());
        return message;
    }

    private static async Task AssertEnginesAgreeAsync(string job, int expectedRounds, int expectedExecutions, int workersPerRound = 4, int mergersPerRound = 2)
    {
        using var second = await TempStore.CreateAsync(rows: 4_000, features: 28, seed: 3);
        using var local = await second.CloneDatasetAsync();

        var (remote, log) = await RunSecondEngineAsync(second, job);
        var pipeline = await new LocalPipeline(local.Store, new LocalPipelineOptions { Concurrency = 2 }).RunAsync(job);

        Assert.True(remote.ExitCode == 0, $"run.mjs failed: {remote}");
        Assert.True(pipeline.Succeeded, $"LocalPipeline: {pipeline.Status} {pipeline.Error} {pipeline.Cause}");
        Assert.Equal(expectedExecutions, pipeline.Executions.Count);
        var output = JsonNode.Parse(remote.StandardOutput)!;
        var summary = pipeline.Summary!;
        Assert.Equal(RunId, output["runId"]!.GetValue<string>());
        Assert.Equal(expectedRounds, output["rounds"]!.GetValue<int>());
        Assert.Equal(summary.Rounds, output["rounds"]!.GetValue<int>());
        Assert.Equal(summary.StopReason, output["stopReason"]!.GetValue<string>());
        Assert.Equal(summary.TrainLoss, output["trainLoss"]!.GetValue<double>());
        Assert.Equal(summary.ValidationLoss, output["validationLoss"]!.GetValue<double>());
        // model/0.tensor (initial) … model/<rounds>.tensor, plus final.tensor.
        await AssertSameModelsAsync(second, local, expectedCount: expectedRounds + 2);
        Assert.True(await second.Store.ExistsAsync($"runs/{RunId}/model/final.tensor"));
        // The second engine's Lambda tasks went over HTTP: serve-lambda answered every one of them.
        // Prepare starts every execution; the first one's Commit (after the Partition and Assemble Maps) calls it again.
        Assert.Equal(expectedExecutions + 1, CountInvocations(log, "stepml-Prepare"));
        // One byte range (the file is under 64 MiB), Summarize, and Assemble for the partitions and validation.
        Assert.Equal(1 + 1 + workersPerRound + 1, CountInvocations(log, "stepml-Partition"));
        Assert.Equal(workersPerRound * expectedRounds, CountInvocations(log, "stepml-Worker"));
        Assert.Equal(mergersPerRound * expectedRounds, CountInvocations(log, "stepml-Merge"));
        Assert.Equal(expectedRounds, CountInvocations(log, "stepml-Decide"));
        Assert.Equal(1, CountInvocations(log, "stepml-Finalize"));
    }

    /// <summary>Every model/*.tensor of the run exists in both stores with the same bytes.</summary>
    private static async Task AssertSameModelsAsync(TempStore second, TempStore local, int expectedCount)
    {
        var prefix = $"runs/{RunId}/model/";
        var secondModels = (await second.Store.ListAsync(prefix)).Select(o => o.Key).Where(k => k.EndsWith(".tensor", StringComparison.Ordinal)).ToList();
        var localModels = (await local.Store.ListAsync(prefix)).Select(o => o.Key).Where(k => k.EndsWith(".tensor", StringComparison.Ordinal)).ToList();
        Assert.Equal(expectedCount, secondModels.Count);
        Assert.Equal(localModels, secondModels);
        foreach (var key in secondModels)
        {
            var a = await second.Store.GetAsync(key);
            var b = await local.Store.GetAsync(key);
            Assert.True(a.AsSpan().SequenceEqual(b), $"{key} differs between the engines ({a.Length} vs {b.Length} bytes)");
        }
    }

    private static int CountInvocations(string log, string function) =>
        log.Split('\n').Count(line => line.StartsWith(function + "  200 ", StringComparison.Ordinal));

    /// <returns>run.mjs's result and serve-lambda's log, one line per invocation.</returns>
    private static async Task<(ProcessResult Result, string ServerLog)> RunSecondEngineAsync(TempStore store, string job)
    {
        Repo.RequireNodePackage("aws-local-stepfunctions");
        var jobFile = Path.Combine(store.Root, "..", Path.GetFileName(store.Root) + ".job.json");
        await File.WriteAllTextAsync(jobFile, job);
        try
        {
            await using var server = await InProcessLambdaServer.StartAsync(store.Store);
            var result = await Processes.RunAsync("node", [Repo.RunScript, "--endpoint", server.BaseAddress.ToString(), jobFile], s_nodeTimeout);
            return (result, server.Log.ToString());
        }
        finally
        {
            File.Delete(jobFile);
        }
    }
}
