using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Tensors;
using StepML.Core.Training;
using StepML.Storage;
using Xunit.Abstractions;

namespace StepML.Cli.Tests.Pipeline;

public sealed class ScratchTuning(ModelDataFixture fixture, ITestOutputHelper output) : IClassFixture<ModelDataFixture>
{
    [Fact]
    public async Task Tune()
    {
        var spec = Environment.GetEnvironmentVariable("TUNE")!.Split(';');
        foreach (var line in spec)
        {
            var parts = line.Split(',');
            var (type, loss, sparse, alg, lr, batch, epochs, rho, rounds) = (parts[0], parts[1], parts[2] == "1", parts[3], double.Parse(parts[4]), int.Parse(parts[5]), int.Parse(parts[6]), double.Parse(parts[7]), int.Parse(parts[8]));
            var store = fixture.NewStore();
            var job = new JsonObject
            {
                ["name"] = "t", ["runId"] = "linear-run",
                ["dataset"] = new JsonObject { ["path"] = sparse ? ModelDataFixture.SparseKey : ModelDataFixture.HiggsKey, ["partitions"] = 4, ["sparse"] = sparse, ["features"] = sparse ? ModelDataFixture.SparseFeatures : 12 },
                ["model"] = new JsonObject { ["type"] = type, ["l2"] = 1e-3, ["loss"] = loss },
                ["algorithm"] = new JsonObject { ["type"] = alg, ["learningRate"] = lr, ["batchSize"] = batch, ["localEpochs"] = epochs, ["rho"] = rho },
                ["stop"] = new JsonObject { ["maxRounds"] = rounds, ["tolerance"] = 0 },
                ["seed"] = 5,
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = await PipelineFixture.RunAsync(store, job);
            var runTime = clock.Elapsed.TotalSeconds;
            var ps = new List<Partition>();
            for (var p = 0; p < 4; p++) ps.Add(Partition.Decode(await store.GetAsync(RunLayout.Partition("linear-run", p)), "p"));
            clock.Restart();
            var reference = LinearOptimum.Solve(ps, type == "logistic" ? LinearLoss.Logistic : loss == "hinge" ? LinearLoss.Hinge : LinearLoss.SquaredHinge, 1e-3);
            var metrics = await StepML.Functions.DecideStep.ReadMetricsAsync(store, "linear-run");
            var curve = string.Join(" ", metrics.Where((m, i) => i % 5 == 4).Select(m => ((m.TrainLoss - reference.Objective) / reference.Objective).ToString("F4")));
            output.WriteLine($"{line}: ok={result.Succeeded} gap={(result.Summary?.TrainLoss - reference.Objective) / reference.Objective:F5} run={runTime:F1}s ref={clock.Elapsed.TotalSeconds:F1}s it={reference.Iterations} dgap={reference.Gap:G3} curve {curve} {result.Cause}");
        }
    }
}
