using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Functions;
using StepML.Local;

namespace StepML.Cli.Bench;

/// <summary>
/// The local engine's cost per round outside the handlers: statemachines/train.asl.json on the real
/// <see cref="LocalEngine"/>, with functions that answer at once with canned, valid outputs (Prepare a run state
/// over P partitions, Worker and Merge their scalars, Decide "continue" until the last round and then "stop",
/// Finalize a summary). What remains is state-machine work: JSONPath, ItemSelector payloads, Map fan-out and
/// fan-in, ResultPath merges, history events and task scheduling.
/// </summary>
internal static class EngineOverheadBenchmark
{
    public static double TargetMilliseconds(int partitions) => partitions <= 8 ? 5 : 20;

    public static async Task<JsonObject> RunAsync(int partitions, int rounds, int repetitions)
    {
        var aslPath = LocalPipeline.FindAsl();
        var substitutions = LocalPipeline.Functions.ToDictionary(f => f + "FunctionArn", LocalPipeline.FunctionArn);
        var definition = StateMachineDefinition.Parse(await File.ReadAllTextAsync(aslPath).ConfigureAwait(false), substitutions, LocalPipeline.StateMachineName);
        var functions = new CannedFunctions(partitions, rounds);
        var engine = new LocalEngine(functions, new LocalEngineOptions { MaxConcurrency = Environment.ProcessorCount, WaitTimeScale = 0 });
        engine.Register(definition);

        var run = 0;
        var seconds = await Measure.BestWallSecondsAsync(repetitions, async () =>
        {
            functions.Reset();
            var execution = engine.StartExecution(LocalPipeline.StateMachineName, "{}", $"bench-{partitions}-{run++}");
            var result = await execution.Completion.ConfigureAwait(false);
            if (result.Status != "SUCCEEDED")
                throw new InvalidOperationException($"the engine benchmark's execution ended {result.Status}: {result.Error}: {result.Cause}");
            if (functions.DecideCalls != rounds)
                throw new InvalidOperationException($"the engine benchmark ran {functions.DecideCalls} rounds, expected {rounds}");
        }).ConfigureAwait(false);

        var milliseconds = seconds * 1000 / rounds;
        var target = TargetMilliseconds(partitions);
        return new JsonObject
        {
            ["partitions"] = partitions,
            ["shards"] = 1,
            ["rounds"] = rounds,
            ["concurrency"] = Environment.ProcessorCount,
            ["repetitions"] = repetitions,
            ["bestWallSeconds"] = Measure.Round(seconds, 6),
            ["millisecondsPerRound"] = Measure.Round(milliseconds, 3),
            ["taskInvocationsPerRun"] = functions.Calls,
            ["microsecondsPerTaskInvocation"] = Measure.Round(seconds * 1e6 / functions.Calls, 2),
            ["targetMillisecondsPerRound"] = target,
            ["meetsTarget"] = milliseconds <= target,
        };
    }

    /// <summary>Six functions answering from precomputed JSON; Decide counts rounds to know when to stop.</summary>
    private sealed class CannedFunctions : IFunctionInvoker
    {
        private readonly int _rounds;
        private readonly byte[] _prepare;
        private readonly byte[] _worker;
        private readonly byte[] _merge;
        private readonly byte[][] _decide;
        private readonly byte[] _finalize;
        private int _decideCalls;
        private int _calls;

        public CannedFunctions(int partitions, int rounds)
        {
            _rounds = rounds;
            var state = new RunState
            {
                RunId = "bench",
                Partitions = Enumerable.Range(0, partitions).ToArray(),
                Shards = [0],
                RoundsPerExecution = rounds + 1,
                StartedAtMs = 0,
            };
            _prepare = JsonSerializer.SerializeToUtf8Bytes(state, ContractJson.Default.RunState);
            _worker = JsonSerializer.SerializeToUtf8Bytes(new WorkerOutput { Partition = 0, Samples = 1000, Loss = 0.5, Seconds = 0.001 }, ContractJson.Default.WorkerOutput);
            _merge = JsonSerializer.SerializeToUtf8Bytes(new MergeOutput { Shard = 0, Contributors = partitions, Seconds = 0.001 }, ContractJson.Default.MergeOutput);
            _decide = new byte[rounds][];
            for (var r = 0; r < rounds; r++)
            {
                var next = state with
                {
                    Round = r + 1,
                    RoundsThisExecution = r + 1,
                    PreviousLoss = 0.5,
                    FirstLoss = 0.6,
                    Action = r + 1 == rounds ? "stop" : "continue",
                    Reason = r + 1 == rounds ? "maxRounds" : "",
                };
                _decide[r] = JsonSerializer.SerializeToUtf8Bytes(next, ContractJson.Default.RunState);
            }
            _finalize = JsonSerializer.SerializeToUtf8Bytes(new FinalSummary { RunId = "bench", Rounds = rounds, ModelKey = "runs/bench/model/final.tensor", StopReason = "maxRounds" },
                ContractJson.Default.FinalSummary);
        }

        public int DecideCalls => _decideCalls;

        /// <summary>Task invocations since the last <see cref="Reset"/>.</summary>
        public int Calls => _calls;

        public void Reset()
        {
            _decideCalls = 0;
            _calls = 0;
        }

        public Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            var name = functionName[(functionName.LastIndexOf(':') + 1)..];
            byte[] output = name switch
            {
                "stepml-Prepare" => _prepare,
                "stepml-Worker" => _worker,
                "stepml-Merge" => _merge,
                "stepml-Decide" => _decide[Math.Min(Interlocked.Increment(ref _decideCalls), _rounds) - 1],
                "stepml-Finalize" => _finalize,
                _ => throw new InvalidOperationException($"the engine benchmark has no canned output for '{functionName}'"),
            };
            return Task.FromResult<Stream>(new MemoryStream(output, writable: false));
        }
    }
}
