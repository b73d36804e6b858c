using System.Text.Json.Nodes;
using StepML.Cli.Tests.Pipeline;
using StepML.Storage;

namespace StepML.Cli.Tests.Commands;

/// <summary><c>stepml invoke</c>: one handler on one event, as the state machine would call it.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class InvokeCommandTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private string Payload(JsonNode node)
    {
        var path = Path.Combine(fixture.Root, $"payload-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, node.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Invoke_PrepareThenEveryPartitionTaskThenCommit_SameSetAsTheStateMachine()
    {
        var store = fixture.NewStore();
        var reference = fixture.NewStore();
        var job = PipelineFixture.Job("ga-sgd", maxRounds: 1, runId: "invoked");
        Assert.True((await PipelineFixture.RunAsync(reference, job)).Succeeded);

        var prepare = await Cli.RunAsync("invoke", "Prepare", "--store", store.Root,
            "--payload", Payload(new JsonObject { ["input"] = job.DeepClone(), ["executionId"] = "arn:aws:states:local:0:execution:train:invoked" }));
        Assert.True(prepare.Code == 0, prepare.Err);
        var state = JsonNode.Parse(prepare.Out)!.AsObject();
        var set = (string)state["partitioning"]!["set"]!;
        foreach (var range in state["partitioning"]!["ranges"]!.AsArray())
            Assert.Equal(0, (await Cli.RunAsync("invoke", "Partition", "--store", store.Root, "--payload", Payload(new JsonObject { ["set"] = set, ["range"] = range!.DeepClone() }))).Code);
        Assert.Equal(0, (await Cli.RunAsync("invoke", "stepml-Partition", "--store", store.Root, "--payload", Payload(new JsonObject { ["set"] = set, ["summarize"] = true }))).Code);
        foreach (var output in state["partitioning"]!["outputs"]!.AsArray())
            Assert.Equal(0, (await Cli.RunAsync("invoke", "Partition", "--store", store.Root, "--payload", Payload(new JsonObject { ["set"] = set, ["output"] = output!.DeepClone() }))).Code);
        var commit = await Cli.RunAsync("invoke", "Prepare", "--store", store.Root, "--payload", Payload(new JsonObject { ["commit"] = state.DeepClone() }));

        Assert.True(commit.Code == 0, commit.Err);
        Assert.Equal("invoked", (string?)JsonNode.Parse(commit.Out)!["runId"]);
        foreach (var name in new[] { "0.part", "1.part", "2.part", "3.part", "validation.part", "manifest.json" })
            Assert.Equal(await reference.GetAsync($"{RunLayout.PartitionSet(set)}/{name}"), await store.GetAsync($"{RunLayout.PartitionSet(set)}/{name}"));
        Assert.Equal(await reference.GetAsync(RunLayout.Model("invoked", 0)), await store.GetAsync(RunLayout.Model("invoked", 0)));
    }

    [Fact]
    public async Task Invoke_UnknownFunction_ExitTwoListingTheFunctions()
    {
        var (code, _, err) = await Cli.RunAsync("invoke", "Trainer", "--store", fixture.NewStore().Root, "--payload", Payload(new JsonObject()));

        Assert.Equal(2, code);
        Assert.Contains("FUNCTION 'Trainer': no such function; give one of Prepare, Worker", err);
    }

    [Fact]
    public async Task Invoke_HandlerRejectsTheEvent_ExitTwoWithTheErrorMessage()
    {
        var (code, output, err) = await Cli.RunAsync("invoke", "Partition", "--store", fixture.NewStore().Root, "--payload", Payload(new JsonObject { ["set"] = new string('a', 32) }));

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("Partition: the input names no 'range', 'output' or 'summarize'", err);
    }

    [Fact]
    public async Task Invoke_MissingPayloadFile_ExitTwoNamingIt()
    {
        var (code, _, err) = await Cli.RunAsync("invoke", "Decide", "--store", fixture.NewStore().Root, "--payload", "/nonexistent/event.json");

        Assert.Equal(2, code);
        Assert.Contains("--payload /nonexistent/event.json: no such file", err);
    }

    [Theory]
    [InlineData("Prepare")]
    [InlineData("RecordFailure")]
    [InlineData("Search")]
    public async Task Invoke_PayloadNotJson_ExitTwoNamingTheFunction(string function)
    {
        var payload = Path.Combine(fixture.NewStore().Root, "..", $"{function}-empty.json");
        File.WriteAllText(payload, "");

        var (code, _, err) = await Cli.RunAsync("invoke", function, "--store", fixture.NewStore().Root, "--payload", payload);

        Assert.Equal(2, code);
        Assert.Contains($"{function}: the input is not valid JSON: the file is empty or blank", err);
        Assert.DoesNotContain("JsonReaderException", err);
    }
}
