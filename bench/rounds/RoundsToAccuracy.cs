#:project ../../cli/StepML.Cli/StepML.Cli.csproj
#:property TreatWarningsAsErrors=false
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// Rounds-to-accuracy experiment (issue 11): every algorithm through the state machine on the local engine, on the
// Higgs-shaped demo data and on RCV1-shaped sparse data; for each, the first round whose training objective is within
// 1%, 0.1% and 0.01% of the single-machine optimum, and the local wall time (run start to that round's Decide).
//   dotnet run -c Release bench/rounds/RoundsToAccuracy.cs -- [higgs|rcv1] [rows] [maxRounds] [algorithm,...]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StepML.Cli;
using StepML.Core.Data;
using StepML.Core.Training;
using StepML.Functions;
using StepML.Storage;

var shape = args.Length > 0 ? args[0] : "higgs";
var rows = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : shape == "higgs" ? 200_000 : 100_000;
var maxRounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 60;
var features = shape == "higgs" ? 28 : 47_236;
const int Partitions = 8;
const double L2 = 1e-4;
var root = Directory.CreateTempSubdirectory("stepml-rounds-").FullName;
var file = Path.Combine(root, "data.libsvm");
using (var writer = new StreamWriter(file))
    if (shape == "higgs") SyntheticData.WriteHiggsLike(writer, rows, features, 42);
    else SyntheticData.WriteRcv1Like(writer, rows, features, 0.0016, 42);

// The SGD family with the settings the tests use: the demo's on Higgs, ModelConvergenceTests' sparse ones on RCV1.
var higgs = shape == "higgs";
var algorithms = new (string Name, JsonObject Spec)[]
{
    ("ga-sgd", new JsonObject { ["type"] = "ga-sgd", ["learningRate"] = higgs ? 1.0 : 4.0, ["momentum"] = 0.9, ["batchSize"] = 0 }),
    ("ma-sgd", new JsonObject { ["type"] = "ma-sgd", ["learningRate"] = higgs ? 1.0 : 2.0, ["batchSize"] = higgs ? 1000 : 100, ["localEpochs"] = higgs ? 3 : 2 }),
    ("admm", new JsonObject { ["type"] = "admm", ["learningRate"] = higgs ? 1.0 : 2.0, ["batchSize"] = higgs ? 1000 : 100, ["localEpochs"] = 3, ["rho"] = 0.02 }),
    ("newton", new JsonObject { ["type"] = "newton" }),
    ("cocoa", new JsonObject { ["type"] = "cocoa", ["localEpochs"] = higgs ? 2 : 1 }),
};
if (args.Length > 3) algorithms = [.. algorithms.Where(a => args[3].Split(',').Contains(a.Name))];
double? optimum = null;
Console.WriteLine($"{shape}: {rows:N0} rows, {features} features, {Partitions} partitions, l2 {L2}, up to {maxRounds} rounds");
Console.WriteLine("| algorithm | rounds to 1% | to 0.1% | to 0.01% | wall s to 1% | to 0.1% | to 0.01% | last gap |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
foreach (var (name, spec) in algorithms)
{
    var store = new FileObjectStore(Path.Combine(root, name));
    await using (var f = File.OpenRead(file)) await store.PutAsync("datasets/data.libsvm", f);
    var job = new JsonObject
    {
        ["name"] = "rounds", ["runId"] = "rounds-" + name,
        ["dataset"] = new JsonObject { ["path"] = "datasets/data.libsvm", ["features"] = features, ["partitions"] = Partitions, ["validationFraction"] = 0.1, ["sparse"] = shape != "higgs" },
        ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = L2 },
        ["algorithm"] = spec,
        ["stop"] = new JsonObject { ["maxRounds"] = maxRounds, ["tolerance"] = 0 },
        ["seed"] = 42,
    };
    var clock = Stopwatch.StartNew();
    var result = await new LocalPipeline(store, new LocalPipelineOptions { Concurrency = 2 }).RunAsync(job.ToJsonString());
    if (!result.Succeeded)
    {
        Console.WriteLine($"| {name} | {result.Error}: {result.Cause?[..Math.Min(result.Cause.Length, 160)]} |||||||");
        continue;
    }
    if (optimum is null)
    {
        var parts = new List<Partition>();
        for (var p = 0; p < Partitions; p++) parts.Add(Partition.Decode(await store.GetAsync(await RunData.PartitionKeyAsync(store, result.RunId!, p)), "p"));
        optimum = shape == "higgs" ? LogisticOptimum.Solve(parts, L2).Objective : LinearOptimum.Solve(parts, LinearLoss.Logistic, L2).Objective;
        Console.Error.WriteLine($"optimum {optimum:G8}");
    }
    var metrics = await DecideStep.ReadMetricsAsync(store, result.RunId!);
    string Rounds(double target) => metrics.FirstOrDefault(m => (m.TrainLoss - optimum.Value) / optimum.Value <= target) is { } m ? $"{m.Round}" : $"> {maxRounds - 1}";
    string Seconds(double target) => metrics.FirstOrDefault(m => (m.TrainLoss - optimum.Value) / optimum.Value <= target) is { } m ? m.ElapsedSeconds.ToString("F1", CultureInfo.InvariantCulture) : "–";
    var last = (metrics[^1].TrainLoss - optimum.Value) / optimum.Value;
    Console.WriteLine($"| {name} | {Rounds(0.01)} | {Rounds(0.001)} | {Rounds(0.0001)} | {Seconds(0.01)} | {Seconds(0.001)} | {Seconds(0.0001)} | {last * 100:F4}% |");
}
Directory.Delete(root, recursive: true);
