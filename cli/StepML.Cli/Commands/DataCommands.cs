using System.CommandLine;
using System.Diagnostics;
using StepML.Core.Data;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml data generate|partition</c>.</summary>
internal static class DataCommands
{
    public static Command Create() => new("data", "Generate datasets and partition dataset files") { Generate(), PartitionCommand() };

    private static Command Generate()
    {
        var kind = new Argument<string>("KIND") { Description = "Dataset shape: higgs (dense LIBSVM from a known linear model plus noise)" };
        kind.AcceptOnlyFromAmong("higgs");
        var rows = new Option<long>("--rows") { Description = "Rows to write", DefaultValueFactory = _ => 100_000 };
        var features = new Option<int>("--features") { Description = "Features per row", DefaultValueFactory = _ => 28 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the generator", DefaultValueFactory = _ => 42 };
        var output = new Option<FileInfo>("--out") { Description = "Output file (LIBSVM text)", Required = true };
        var command = new Command("generate", "Write a synthetic dataset") { kind, rows, features, seed, output };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(output)!;
            var n = parse.GetValue(rows);
            if (n < 1) throw new UsageException($"--rows {n}: give at least 1 row");
            var d = parse.GetValue(features);
            if (d < 1) throw new UsageException($"--features {d}: give at least 1 feature");
            var temp = file.FullName + ".tmp";
            using (var writer = new StreamWriter(temp))
                SyntheticData.WriteHiggsLike(writer, n, d, parse.GetValue(seed));
            File.Move(temp, file.FullName, overwrite: true);
            Console.WriteLine($"wrote {n:N0} rows x {d} features to {file.FullName} ({new FileInfo(file.FullName).Length / 1e6:F1} MB)");
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
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder for <p>.part and validation.part", Required = true };
        var command = new Command("partition", "Split a dataset file into binary partitions plus a validation partition, streaming (bounded memory)")
        {
            input, format, partitions, validation, features, seed, csvHeader, output,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            if (!file.Exists) throw new FileNotFoundException($"dataset '{file.FullName}' does not exist");
            var fmt = parse.GetValue(format) ?? (file.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "libsvm");
            if (fmt is not ("csv" or "libsvm")) throw new UsageException($"--format {fmt}: use libsvm or csv");
            var dir = parse.GetValue(output)!;
            dir.Create();
            var clock = Stopwatch.StartNew();
            var summary = Partitioner.Run(() => file.OpenRead(), file.FullName, fmt == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm,
                new PartitionOptions(parse.GetValue(partitions), parse.GetValue(validation), parse.GetValue(seed), parse.GetValue(features), CsvHeader: parse.GetValue(csvHeader)),
                dir.FullName);
            Console.WriteLine($"{summary.TotalRows:N0} rows, {summary.Features} features -> {summary.RowsPerPartition.Length} partitions ({string.Join(", ", summary.RowsPerPartition)}) + validation {summary.ValidationRows:N0} in {clock.Elapsed.TotalSeconds:F1} s ({file.Length / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s)");
            return 0;
        });
        return command;
    }
}
