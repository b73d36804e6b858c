using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace StepML.Local.Tests;

// Runs the overhead measurement alone, so other test classes do not share the cores while it measures.
[CollectionDefinition(nameof(EngineOverheadTests), DisableParallelization = true)]
public sealed class EngineOverheadCollection;

// A micro measurement of per-round engine cost for the StepML loop shape
// (Task → Map over 64 → Map over 4 → Task → Choice) with functions that return at once.
// The real benchmark lives in bench/; this keeps a regression guard on the engine alone.
[Collection(nameof(EngineOverheadTests))]
public sealed class EngineOverheadTests(ITestOutputHelper output)
{
    private const string Loop = """
        {"StartAt":"Prepare","States":{
          "Prepare":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:prepare","Next":"Workers"},
          "Workers":{"Type":"Map","ItemsPath":"$.partitions","MaxConcurrency":0,
            "ItemSelector":{"partition.$":"$$.Map.Item.Value","round.$":"$.round","model.$":"$.model","runId.$":"$.runId"},
            "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"Work","States":{
              "Work":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:worker",
                      "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2}],"End":true}}},
            "ResultPath":"$.workers","Next":"Merge"},
          "Merge":{"Type":"Map","ItemsPath":"$.shards",
            "ItemSelector":{"shard.$":"$$.Map.Item.Value","round.$":"$.round","runId.$":"$.runId"},
            "ItemProcessor":{"StartAt":"MergeShard","States":{
              "MergeShard":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                            "Parameters":{"FunctionName":"merger","Payload.$":"$"},"ResultSelector":{"bytes.$":"$.Payload.bytes"},"End":true}}},
            "ResultPath":null,"Next":"Decide"},
          "Decide":{"Type":"Task","Resource":"arn:aws:lambda:local:0:function:decide",
            "Parameters":{"state.$":"$","losses.$":"$.workers[*].loss"},"Next":"Converged?"},
          "Converged?":{"Type":"Choice","Choices":[{"Variable":"$.done","BooleanEquals":true,"Next":"Done"}],"Default":"Workers"},
          "Done":{"Type":"Succeed"}}}
        """;

    [Fact]
    public async Task Round_OfTheStepMLLoop_CostsWellUnder20Milliseconds()
    {
        const int rounds = 60;
        var functions = new FunctionTable()
            .Add("prepare", _ => new JsonObject
            {
                ["runId"] = "bench", ["round"] = 0, ["model"] = "runs/bench/model/0.tensor",
                ["partitions"] = new JsonArray(Enumerable.Range(0, 64).Select(i => (JsonNode?)i).ToArray()),
                ["shards"] = new JsonArray(0, 1, 2, 3),
            })
            .Add("worker", i => new JsonObject { ["partition"] = i!["partition"]!.DeepClone(), ["samples"] = 1000, ["loss"] = 0.25, ["seconds"] = 0.01 })
            .Add("merger", i => new JsonObject { ["shard"] = i!["shard"]!.DeepClone(), ["bytes"] = 4096 })
            .Add("decide", i =>
            {
                var state = i!["state"]!.AsObject();
                state.Remove("workers");
                int round = (int)state["round"]! + 1;
                state["round"] = round;
                state["done"] = round >= rounds;
                return state;
            });
        var engine = new LocalEngine(functions, new LocalEngineOptions { WaitTimeScale = 0 });
        engine.Register(StateMachineDefinition.Parse(Loop, name: "Loop"));

        var roundTimes = new List<double>();
        var process = Process.GetCurrentProcess();
        var clock = Stopwatch.StartNew();
        double last = 0;
        TimeSpan cpuAtRound5 = default, cpuAtEnd = default;
        engine.StateExited += (_, exit) =>
        {
            if (exit.StateName != "Decide") return;
            double now = clock.Elapsed.TotalMilliseconds;
            roundTimes.Add(now - last);
            last = now;
            if (roundTimes.Count == 5) { process.Refresh(); cpuAtRound5 = process.TotalProcessorTime; }
            if (roundTimes.Count == rounds) { process.Refresh(); cpuAtEnd = process.TotalProcessorTime; }
        };
        var result = await engine.StartExecution("Loop", "{}").Completion.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal("SUCCEEDED", result.Status);
        Assert.Equal(rounds, roundTimes.Count);

        var steady = roundTimes.Skip(5).Order().ToArray();
        double median = steady[steady.Length / 2], p90 = steady[(int)(steady.Length * 0.9)];
        int events = engine.Executions[0].History.Count;
        double cpuPerRound = (cpuAtEnd - cpuAtRound5).TotalMilliseconds / (rounds - 5);
        output.WriteLine($"engine overhead per round (64-item Map + 4-item Map + 2 Tasks + Choice, {Environment.ProcessorCount} cores): " +
                         $"wall median {median:F2} ms, p90 {p90:F2} ms, first {roundTimes[0]:F2} ms; CPU {cpuPerRound:F2} ms/round " +
                         $"(includes the in-test functions' JSON work); {events} history events in {rounds} rounds");
        // CPU time, not wall time, is asserted: other processes on a shared machine stretch wall time, not our CPU.
        Assert.True(cpuPerRound < 20, $"a round costs {cpuPerRound:F2} ms of CPU, above the 20 ms budget");
    }
}
