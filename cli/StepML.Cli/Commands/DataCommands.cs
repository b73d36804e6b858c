using System.CommandLine;
using System.Diagnostics;
using StepML.Cli.Progress;
using StepML.Core.Data;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml data generate|partition</c>.</summary>
internal static class DataCommands
{
    public static Command Create() => new("data", "Generate datasets and partition dataset files") { Generate(), PartitionCommand() };

    private static Command Generate()
    {
        var kind = new Argument<string>("KIND")
        {
            Description = "Dataset shape: higgs (dense LIBSVM from a known linear model plus noise), rcv1like (sparse TF-IDF-like " +
                "LIBSVM from a known sparse linear model plus noise), blobs (dense Gaussian clusters, label = cluster id)",
        };
        kind.AcceptOnlyFromAmong("higgs", "rcv1like", "blobs");
        var rows = new Option<long>("--rows") { Description = "Rows to write", DefaultValueFactory = _ => 100_000 };
        var features = new Option<int?>("--features") { Description = "Features per row (default: higgs 28, rcv1like 47236, blobs 2)" };
        var density = new Option<double>("--density") { Description = "rcv1like: expected fraction of non-zero features per row", DefaultValueFactory = _ => 0.0016 };
        var clusters = new Option<int>("--clusters") { Description = "blobs: number of clusters", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the generator", DefaultValueFactory = _ => 42 };
        var output = new Option<FileInfo>("--out") { Description = "Output file (LIBSVM text)", Required = true };
        var quiet = QuietOption();
        var command = new Command("generate", "Write a synthetic dataset") { kind, rows, features, density, clusters, seed, output, quiet };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(output)!;
            var shape = parse.GetValue(kind)!;
            var n = parse.GetValue(rows);
            if (n < 1) throw new UsageException($"--rows {n}: give at least 1 row");
            var d = parse.GetValue(features) ?? shape switch { "rcv1like" => 47_236, "blobs" => 2, _ => 28 };
            if (d < 1) throw new UsageException($"--features {d}: give at least 1 feature");
            var p = parse.GetValue(density);
            if (!(p > 0 && p <= 1)) throw new UsageException($"--density {p}: give a fraction in (0, 1], e.g. 0.0016 for RCV1's");
            var k = parse.GetValue(clusters);
            if (k < 1) throw new UsageException($"--clusters {k}: give at least 1 cluster");
            var full = OutputPaths.File(file.ToString(), "--out");
            // Through a temporary file: a failure leaves no half-written file and keeps the one that was there.
            await OutputPaths.WriteAsync(full, stream =>
            {
                using var progress = new TerminalProgress($"generating {n:N0} {shape} rows", null, parse.GetValue(quiet));
                using var writer = new StreamWriter(new ProgressStream(stream, progress));
                var s = parse.GetValue(seed);
                _ = shape switch
                {
                    "rcv1like" => SyntheticData.WriteRcv1Like(writer, n, d, p, s),
                    "blobs" => SyntheticData.WriteBlobs(writer, n, d, k, s),
                    _ => SyntheticData.WriteHiggsLike(writer, n, d, s),
                };
                return Task.CompletedTask;
            }).ConfigureAwait(false);
            Console.WriteLine($"wrote {n:N0} {shape} rows x {d} features to {full} ({new FileInfo(full).Length / 1e6:F1} MB)");
            return 0;
        });
        return command;
    }

    private static Command PartitionCommand()
    {
        var input = new Argument<FileInfo>("FILE") { Description = "Dataset file (LIBSVM or CSV with the label first)" };
        var format = new Option<string?>("--format") { Description = "libsvm or csv (default: from the extension)" };
        var partitions = new Option<int>("--partitions") { Description = "Number of training partitions", DefaultValueFactory = _ => 4 };
        var validation = new Option<double>("--validation-fraction") { Description = "Fraction of rows held out for validation", DefaultValueFactory = _ => 0.1 };
        var features = new Option<int?>("--features") { Description = "Feature count (default: discovered by a first pass)" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the row assignment", DefaultValueFactory = _ => 42 };
        var csvHeader = new Option<bool>("--csv-header") { Description = "The CSV file starts with a header line" };
        var sparse = new Option<bool>("--sparse") { Description = "Write CSR partitions (row offsets, indices, values) instead of dense rows" };
        var rawLabels = new Option<bool>("--raw-labels") { Description = "Keep labels as written (KMeans, multi-class) instead of mapping 0/1 or -1/+1 to 0/1" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder for <p>.part and validation.part", Required = true };
        var quiet = QuietOption();
        var command = new Command("partition", "Split a dataset file into binary partitions plus a validation partition, streaming (bounded memory)")
        {
            input, format, partitions, validation, features, seed, csvHeader, sparse, rawLabels, output, quiet,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            RequireFile(file, "dataset");
            var fmt = parse.GetValue(format) ?? (file.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "libsvm");
            if (fmt is not ("csv" or "libsvm")) throw new UsageException($"--format {fmt}: use libsvm or csv");
            if (parse.GetValue(partitions) < 1) throw new UsageException($"--partitions {parse.GetValue(partitions)}: give at least 1 partition");
            if (!(parse.GetValue(validation) is >= 0 and < 1)) throw new UsageException($"--validation-fraction {parse.GetValue(validation)}: give a fraction in [0, 1), e.g. 0.1");
            var dir = new DirectoryInfo(OutputPaths.Folder(parse.GetValue(output)!.ToString(), "--out"));
            var created = !dir.Exists;
            dir.Create();
            var clock = Stopwatch.StartNew();
            PartitionSummary summary;
            try
            {
                // Without --features a first pass discovers the feature count: the file is read twice.
                var passes = parse.GetValue(features) is null && fmt == "libsvm" ? 2 : 1;
                using var progress = new TerminalProgress(passes == 2 ? "partitioning (features, then rows)" : "partitioning", passes * file.Length, parse.GetValue(quiet));
                summary = Partitioner.Run(() => new ProgressStream(file.OpenRead(), progress), file.FullName, fmt == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm,
                    new PartitionOptions(parse.GetValue(partitions), parse.GetValue(validation), parse.GetValue(seed), parse.GetValue(features),
                        Sparse: parse.GetValue(sparse), Labels: parse.GetValue(rawLabels) ? LabelMapping.Raw : LabelMapping.Binary, CsvHeader: parse.GetValue(csvHeader)),
                    dir.FullName);
            }
            catch when (created)
            {
                // A failed partitioning leaves no empty folder behind. (Not tested in the filter: a filter runs before
                // the partitioner's own clean-up has removed its pieces.)
                if (!dir.EnumerateFileSystemInfos().Any()) dir.Delete();
                throw;
            }
            Console.WriteLine($"{summary.TotalRows:N0} rows, {summary.Features} features -> {summary.RowsPerPartition.Length} partitions ({string.Join(", ", summary.RowsPerPartition)}) + validation {summary.ValidationRows:N0} in {clock.Elapsed.TotalSeconds:F1} s ({file.Length / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s)");
            return 0;
        });
        return command;
    }
}
