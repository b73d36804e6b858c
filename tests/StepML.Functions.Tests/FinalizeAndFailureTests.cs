using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Tensors;

namespace StepML.Functions.Tests;

public class FinalizeStepTests
{
    [Fact]
    public async Task RunAsync_AfterTwoRounds_WritesFinalTensorSummaryAndReport()
    {
        // Arrange
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job(algorithm: "admm"));
        state = await run.RoundAsync(state);
        state = await run.RoundAsync(state);
        run.Time.Now += TimeSpan.FromSeconds(5);

        // Act
        var summary = await FinalizeStep.RunAsync(run.Context, state);

        // Assert
        Assert.Equal(await run.GetAsync("runs/run-1/model/2.tensor"), await run.GetAsync("runs/run-1/model/final.tensor"));
        var stored = JsonSerializer.Deserialize(await run.GetAsync("runs/run-1/model/final.json"), ContractJson.Default.FinalSummary)!;
        Assert.Equal("run-1", stored.RunId);
        Assert.Equal(2, stored.Rounds);
        Assert.Equal("runs/run-1/model/final.tensor", stored.ModelKey);
        Assert.Equal(summary.TrainLoss, stored.TrainLoss);
        Assert.InRange(summary.TrainLoss, 0.05, Math.Log(2) - 1e-3);
        Assert.InRange(summary.TrainAccuracy, 0.5, 1);
        Assert.NotNull(summary.ValidationLoss);
        Assert.InRange(summary.ElapsedSeconds, 4.99, 5.01);
        var html = Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/report.html"));
        Assert.StartsWith("<!doctype html>", html);
        Assert.Contains("run-1", html);
        Assert.Contains("<polyline", html);
        Assert.EndsWith("</html>", html);
    }

    [Fact]
    public async Task RunAsync_NoValidationRows_ValidationFieldsOmitted()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job().Replace("\"validationFraction\": 0.2", "\"validationFraction\": 0"));
        state = await run.RoundAsync(state);

        var summary = await FinalizeStep.RunAsync(run.Context, state);

        Assert.Null(summary.ValidationLoss);
        Assert.Null(summary.ValidationAccuracy);
        var metrics = Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/metrics.jsonl"));
        Assert.DoesNotContain("validationLoss", metrics);
        Assert.Contains("–", Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/report.html")));
    }

    [Fact]
    public async Task RunAsync_ModelMissing_ThrowsWithoutWritingFinal()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());

        await Assert.ThrowsAsync<StepML.Storage.ObjectNotFoundException>(() => FinalizeStep.RunAsync(run.Context, state with { Round = 4 }));

        Assert.False(await run.ExistsAsync("runs/run-1/model/final.tensor"));
    }
}

public class RecordFailureStepTests
{
    [Fact]
    public async Task RunAsync_StateWithRunIdAndError_WritesFailureJson()
    {
        // Arrange: the Catch puts the error at $.error of the state.
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        var input = JsonNode.Parse(JsonSerializer.Serialize(state, ContractJson.Default.RunState))!.AsObject();
        input["error"] = new JsonObject { ["Error"] = "TensorChecksumException", ["Cause"] = "block 0 checksum mismatch" };
        var model0 = await run.GetAsync("runs/run-1/model/0.tensor");

        // Act
        var record = await RecordFailureStep.RunAsync(run.Context, input);

        // Assert
        Assert.Equal("run-1", record.RunId);
        Assert.Equal("TensorChecksumException", record.Error);
        var stored = JsonDocument.Parse(await run.GetAsync("runs/run-1/failure.json")).RootElement;
        Assert.Equal("TensorChecksumException", stored.GetProperty("error").GetString());
        Assert.Equal("block 0 checksum mismatch", stored.GetProperty("cause").GetString());
        Assert.Equal(run.Time.Now, stored.GetProperty("time").GetDateTimeOffset());
        Assert.Equal(model0, await run.GetAsync("runs/run-1/model/0.tensor"));
    }

    [Fact]
    public async Task RunAsync_PrepareRefusedAnExistingRunId_ExistingRunLeftUntouched()
    {
        // Arrange: run-1 exists; a different job asking for runId run-1 fails Prepare, and the Catch hands
        // RecordFailure that job spec (with its runId) plus the error. The failure belongs to the refused job,
        // not to run-1, whose folder must not gain a failure.json.
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job(algorithm: "ga-sgd"));
        var before = await run.KeysAsync("runs/run-1/");
        var refused = JsonNode.Parse(TestRun.Job(algorithm: "admm"))!.AsObject();
        var error = await Assert.ThrowsAsync<RunExistsException>(() => run.PrepareAsync(refused.ToJsonString()));
        refused["error"] = new JsonObject { ["Error"] = nameof(RunExistsException), ["Cause"] = error.Message };

        // Act
        var record = await RecordFailureStep.RunAsync(run.Context, refused);

        // Assert
        Assert.Equal(nameof(RunExistsException), record.Error);
        Assert.Equal(before, await run.KeysAsync("runs/run-1/"));
    }

    [Theory]
    [InlineData("""{ "dataset": { "path": "d" }, "error": { "Error": "JobSpecException", "Cause": "bad" } }""", "JobSpecException")]
    [InlineData("""{ "runId": "../escape", "error": { "Error": "X", "Cause": "y" } }""", "X")]
    [InlineData("""{ "runId": 5, "error": { "Error": "X" } }""", "X")]
    [InlineData("""{ }""", "UnknownError")]
    public async Task RunAsync_NoUsableRunId_ReturnsRecordAndWritesNothing(string json, string error)
    {
        using var run = new TestRun();
        var before = await run.KeysAsync("");

        var record = await RecordFailureStep.RunAsync(run.Context, JsonNode.Parse(json));

        Assert.Equal(error, record.Error);
        Assert.Equal(before, await run.KeysAsync(""));
    }

    [Fact]
    public async Task RunAsync_ResumeOfARunWithNothingStored_WritesNoRunFolder()
    {
        // A user's resume of a mistyped run id fails Prepare with RunNotFoundException: writing failure.json would
        // create runs/<typo>/ out of nothing.
        using var run = new TestRun();
        await run.PrepareAsync(TestRun.Job());
        var before = await run.KeysAsync("");
        var input = JsonNode.Parse("""{ "resume": { "runId": "run-typo" }, "error": { "Error": "RunNotFoundException", "Cause": "run 'run-typo' does not exist" } }""");

        var record = await RecordFailureStep.RunAsync(run.Context, input);

        Assert.Equal("run-typo", record.RunId);
        Assert.Equal(before, await run.KeysAsync(""));
    }

    [Fact]
    public async Task RunAsync_InputWithoutRunId_RecordHasNoRunId()
    {
        using var run = new TestRun();

        var record = await RecordFailureStep.RunAsync(run.Context, JsonNode.Parse("""{ "error": { "Error": "JobSpecException", "Cause": "c" } }"""));

        Assert.Null(record.RunId);
        Assert.Equal("c", record.Cause);
    }

    [Fact]
    public async Task RunAsync_NullInput_ReturnsUnknownError()
    {
        using var run = new TestRun();

        var record = await RecordFailureStep.RunAsync(run.Context, null);

        Assert.Equal("UnknownError", record.Error);
        Assert.Null(record.RunId);
    }
}
