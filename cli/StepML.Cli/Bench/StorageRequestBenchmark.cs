using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Functions;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli.Bench;

/// <summary>
/// Store requests per training round: a real small job through <see cref="LocalPipeline"/> (real ASL, engine,
/// handlers, folder store) with the store wrapped in <see cref="CountingObjectStore"/>. A steady-state round (not
/// round 0, when the per-container caches of job.json and partitions fill) is compared with what the design
/// implies, per function and per request kind.
/// </summary>
internal static class StorageRequestBenchmark
{
    public const int Rounds = 5;
    public const int SteadyRound = 2;
    private static readonly string[] s_functions = ["Worker", "Merge", "Decide"];

    public static async Task<JsonArray> RunAsync(int partitions, int rowsPerPartition)
    {
        var results = new JsonArray();
        var folder = Directory.CreateTempSubdirectory("stepml-bench-store-");
        try
        {
            var store = new CountingObjectStore(new FileObjectStore(folder.FullName));
            const string dataset = "datasets/bench.libsvm";
            var rows = (long)Math.Ceiling(partitions * rowsPerPartition / 0.9);
            await using (var text = new MemoryStream())
            {
                await using (var writer = new StreamWriter(text, leaveOpen: true))
                    SyntheticData.WriteHiggsLike(writer, rows, 28, seed: 3);
                text.Position = 0;
                await store.PutAsync(dataset, text).ConfigureAwait(false);
            }
            foreach (var algorithm in new[] { "admm", "ga-sgd" })
                foreach (var shards in new[] { 1, 4 })
                    results.Add(await RunJobAsync(store, dataset, algorithm, partitions, shards).ConfigureAwait(false));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
        return results;
    }

    private static async Task<JsonObject> RunJobAsync(CountingObjectStore store, string dataset, string algorithm, int partitions, int shards)
    {
        var job = new JsonObject
        {
            ["name"] = $"bench-{algorithm}-s{shards}",
            ["dataset"] = new JsonObject { ["path"] = dataset, ["format"] = "libsvm", ["features"] = 28, ["partitions"] = partitions, ["validationFraction"] = 0.1 },
            ["model"] = new JsonObject { ["type"] = "logistic", ["l2"] = 1e-4 },
            ["algorithm"] = new JsonObject { ["type"] = algorithm, ["learningRate"] = 0.5, ["batchSize"] = 100, ["localEpochs"] = 1, ["rho"] = 0.1 },
            ["communication"] = new JsonObject { ["channel"] = "s3", ["pattern"] = shards > 1 ? "scatter-reduce" : "all-reduce", ["shards"] = shards },
            ["stop"] = new JsonObject { ["maxRounds"] = Rounds, ["tolerance"] = 0 },
            ["seed"] = 42,
        };

        var pipeline = new LocalPipeline(store, new LocalPipelineOptions
        {
            WrapFunctions = inner => new TaggingInvoker(inner),
            // The counting decorator hides the folder store, so name its ledger (outside the counted store, as in the cloud).
            Ledger = new StepML.Storage.Ledger.FolderRunLedger(Path.Combine(store.Uri["file://".Length..], "ledger")),
        });
        // Round r is every request between the end of Decide(r - 1) (or of Prepare) and the end of Decide(r): the
        // engine raises these events before it starts the next state, so the cut is exact.
        var boundaries = new List<int>();
        pipeline.Prepared += _ => boundaries.Add(store.Count);
        pipeline.RoundCompleted += _ => boundaries.Add(store.Count);
        var result = await pipeline.RunAsync(job.ToJsonString()).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new InvalidOperationException($"the storage benchmark's {algorithm} job (S = {shards}) ended {result.Status}: {result.Error}: {result.Cause}");
        if (boundaries.Count != Rounds + 1)
            throw new InvalidOperationException($"the storage benchmark saw {boundaries.Count - 1} rounds, expected {Rounds}");

        var perRound = new JsonArray();
        for (var r = 0; r < Rounds; r++)
            perRound.Add(Totals(store.Slice(boundaries[r], boundaries[r + 1])));
        var steady = store.Slice(boundaries[SteadyRound], boundaries[SteadyRound + 1]);

        var admm = algorithm == "admm";
        var expected = Expected(partitions, shards, admm);
        var measured = new Dictionary<string, Dictionary<StoreRequestKind, int>>();
        foreach (var function in s_functions) measured[function] = new Dictionary<StoreRequestKind, int>();
        var outside = new List<string>();
        foreach (var request in steady)
        {
            // The pipeline writes history segments on a clock (every second), not per round: not a round's request.
            if (request.Function == CountingObjectStore.OutsideHandlers && request.Key.Contains("/history/", StringComparison.Ordinal)) continue;
            if (!measured.TryGetValue(request.Function, out var counts))
            {
                outside.Add($"{request.Function} {request.Kind} {request.Key}");
                continue;
            }
            counts[request.Kind] = counts.GetValueOrDefault(request.Kind) + 1;
        }

        var table = new JsonArray();
        var mismatches = new JsonArray();
        foreach (var function in s_functions)
            foreach (var kind in Enum.GetValues<StoreRequestKind>())
            {
                var want = expected[function].GetValueOrDefault(kind);
                var got = measured[function].GetValueOrDefault(kind);
                if (want == 0 && got == 0) continue;
                var row = new JsonObject
                {
                    ["function"] = function,
                    ["kind"] = Name(kind),
                    ["expected"] = want,
                    ["measured"] = got,
                    ["match"] = want == got,
                    ["design"] = Why(function, kind, partitions, shards, admm),
                };
                table.Add(row);
                if (want != got)
                {
                    var keys = steady.Where(q => q.Function == function && q.Kind == kind).Select(q => q.Key).Distinct().Take(6);
                    mismatches.Add($"{function} {Name(kind)}: expected {want}, measured {got} (keys: {string.Join(", ", keys)})");
                }
            }
        foreach (var line in outside) mismatches.Add($"request outside Worker/Merge/Decide: {line}");

        var expectedTotals = new JsonObject();
        foreach (var kind in Enum.GetValues<StoreRequestKind>())
            expectedTotals[Name(kind)] = s_functions.Sum(f => expected[f].GetValueOrDefault(kind));
        return new JsonObject
        {
            ["algorithm"] = algorithm,
            ["partitions"] = partitions,
            ["shards"] = shards,
            ["rounds"] = Rounds,
            ["steadyRound"] = SteadyRound,
            ["expected"] = expectedTotals,
            ["measured"] = Totals(steady),
            ["table"] = table,
            ["matches"] = mismatches.Count == 0,
            ["mismatches"] = mismatches,
            ["perRound"] = perRound,
        };
    }

    /// <summary>What DESIGN.md implies for one round with P partitions and S shards.</summary>
    private static Dictionary<string, Dictionary<StoreRequestKind, int>> Expected(int p, int s, bool admm) => new()
    {
        ["Worker"] = new()
        {
            [StoreRequestKind.Get] = p + (admm ? p : 0),
            [StoreRequestKind.Put] = p + (admm ? p : 0),
        },
        ["Merge"] = new()
        {
            [StoreRequestKind.RangedGet] = s * p + s,
            [StoreRequestKind.Put] = s,
        },
        ["Decide"] = new()
        {
            [StoreRequestKind.Get] = s + 1,
            [StoreRequestKind.Put] = 3,
            // Round r − 2's statistics, merged shards and worker state (SpentRounds): from round 2 on.
            [StoreRequestKind.Delete] = p + s + (admm ? p : 0),
        },
    };

    private static string Why(string function, StoreRequestKind kind, int p, int s, bool admm) => (function, kind) switch
    {
        ("Worker", StoreRequestKind.Get) => admm ? $"{p} model gets + {p} worker-state gets (x_i, u_i)" : $"{p} model gets",
        ("Worker", StoreRequestKind.Put) => admm ? $"{p} statistic puts + {p} worker-state puts" : $"{p} statistic puts",
        ("Merge", StoreRequestKind.RangedGet) => $"{s}×{p} ranged statistic reads + {s} ranged reads of the model (one shard each)",
        ("Merge", StoreRequestKind.Put) => $"{s} merged-shard puts",
        ("Decide", StoreRequestKind.Get) => $"{s} merged-shard gets + 1 metrics.jsonl get (S3 objects cannot be appended to)",
        ("Decide", StoreRequestKind.Put) => "1 model put + 1 round record put (records/<round>.json, the resume point) + 1 metrics.jsonl put",
        ("Decide", StoreRequestKind.Delete) => admm
            ? $"round r − 2's {p} statistics, {s} merged shards and {p} worker states (free on S3)"
            : $"round r − 2's {p} statistics and {s} merged shards (free on S3)",
        _ => "none: the design implies no such request",
    };

    private static JsonObject Totals(IReadOnlyList<StoreRequest> requests)
    {
        var totals = new JsonObject();
        foreach (var kind in Enum.GetValues<StoreRequestKind>())
            totals[Name(kind)] = requests.Count(r => r.Kind == kind);
        return totals;
    }

    private static string Name(StoreRequestKind kind) => kind switch
    {
        StoreRequestKind.Get => "get",
        StoreRequestKind.RangedGet => "rangedGet",
        StoreRequestKind.Put => "put",
        StoreRequestKind.List => "list",
        StoreRequestKind.Exists => "exists",
        StoreRequestKind.Delete => "delete",
        StoreRequestKind.OpenRead => "openRead",
        StoreRequestKind.Version => "version",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Tags the store requests a handler makes with its function name (an async method, so the tag flows
    /// into the handler and is restored for the engine when it returns).</summary>
    internal sealed class TaggingInvoker(IFunctionInvoker inner) : IFunctionInvoker
    {
        public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
        {
            var name = functionName[(functionName.LastIndexOf(':') + 1)..];
            CountingObjectStore.CurrentFunction = name.StartsWith("stepml-", StringComparison.Ordinal) ? name["stepml-".Length..] : name;
            return await inner.InvokeAsync(functionName, payload, ct).ConfigureAwait(false);
        }
    }
}
