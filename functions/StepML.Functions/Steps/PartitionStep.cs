using System.Diagnostics;
using StepML.Core.Data;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>
/// The Partition function's three parts of making a partition set (issue 8 §1), each one bounded task:
/// <list type="bullet">
/// <item><b>range</b> (the Partition Map, one task per byte range): a ranged read, parse, and one piece per output
///   (every training partition and validation) written to the store, plus the range's record;</item>
/// <item><b>summarize</b> (once): adds up the range records, fixes the feature count (<c>features: 0</c>: the
///   largest index any range saw) and checks labels, empty partitions and sizes before anything is assembled;</item>
/// <item><b>output</b> (the Assemble Map, one task per output): the output's pieces in range order become its
///   <c>.part</c> file.</item>
/// </list>
/// </summary>
public static class PartitionStep
{
    public static Task<PartitionOutput> RunAsync(FunctionContext context, PartitionInput input)
    {
        ObjectKey.Validate(RunLayout.PartitionSet(input.Set), "set");
        if (input.Range is { } range) return RangeAsync(context, input.Set, range);
        if (input.Output is { } output) return AssembleAsync(context, input.Set, output);
        if (input.Summarize == true) return SummarizeAsync(context, input.Set);
        throw new InvalidInputException("Partition: the input names no 'range', 'output' or 'summarize'");
    }

    private static async Task<PartitionOutput> RangeAsync(FunctionContext context, string set, int index)
    {
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var plan = await PartitionSets.ReadAsync(store, RunLayout.SetPlan(set), ContractJson.Default.PartitionPlan).ConfigureAwait(false);
        if (index < 0 || index >= plan.RangeCount)
            throw new InvalidInputException($"Partition: range {index} is outside the plan's {plan.RangeCount} ranges");
        var range = RangePlan.At(plan.Files, plan.RangeBytes, index);
        var file = plan.Files[range.File];
        var task = new RangeTask(file.Key, range.Start, range.End, plan.Format == "csv" ? DatasetFormat.Csv : DatasetFormat.LibSvm, plan.CsvHeader);
        var assignment = new RowAssignment(plan.Seed, plan.ValidationFraction, plan.Partitions, plan.PartitionWeights);
        var temp = Directory.CreateTempSubdirectory("stepml-range-");
        try
        {
            RangeSummary summary;
            try
            {
                summary = await Task.Run(() => RangePartitioner.Run(
                    new StoreRangeStream(store, file.Key, range.ReadFrom, file.Size), task, assignment, plan.Features, plan.Labels, temp.FullName, plan.MaxClasses)).ConfigureAwait(false);
            }
            catch (DatasetFormatException e)
            {
                // Bad data is not retried: the record carries it to Summarize, which fails the run with its name.
                var prefix = $"{e.FileName}:{e.LineNumber}: ";
                var error = new RangeError(e.FileName, e.LineNumber, e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message);
                await WriteRecordAsync(store, set, new RangeRecord(index, new long[plan.Partitions + 1], new long[plan.Partitions + 1], -1, float.NaN, false, false, error)).ConfigureAwait(false);
                return new PartitionOutput(set, 0, clock.Elapsed.TotalSeconds, Range: index);
            }
            for (var o = 0; o <= plan.Partitions; o++)
            {
                await using var piece = File.OpenRead(Path.Combine(temp.FullName, $"{o}.piece"));
                await store.PutAsync(RunLayout.SetPiece(set, index, o), piece, PutOptions.Statistic).ConfigureAwait(false);
            }
            await WriteRecordAsync(store, set, new RangeRecord(index, summary.Rows, summary.Values, summary.Width, summary.MaxLabel, summary.SawZero, summary.SawMinusOne)).ConfigureAwait(false);
            return new PartitionOutput(set, summary.TotalRows, clock.Elapsed.TotalSeconds, Range: index);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    // Tagged like the pieces: scratch that the bucket's lifecycle rule expires if the run dies before Commit.
    private static Task WriteRecordAsync(IObjectStore store, string set, RangeRecord record) =>
        store.PutAsync(RunLayout.SetRangeSummary(set, record.Range), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Default.RangeRecord),
            PutOptions.Statistic);

    private static async Task<PartitionOutput> SummarizeAsync(FunctionContext context, string set)
    {
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var plan = await PartitionSets.ReadAsync(store, RunLayout.SetPlan(set), ContractJson.Default.PartitionPlan).ConfigureAwait(false);
        var outputs = plan.Partitions + 1;
        var rows = new long[outputs];
        var values = new long[outputs];
        var width = -1;
        var maxLabel = float.NegativeInfinity;
        int? zeroRange = null, minusOneRange = null;
        for (var r = 0; r < plan.RangeCount; r++)
        {
            var record = await PartitionSets.ReadAsync(store, RunLayout.SetRangeSummary(set, r), ContractJson.Default.RangeRecord).ConfigureAwait(false);
            if (record.Error is { } error) throw new DatasetFormatException(error.File, error.Line, error.Message);
            for (var o = 0; o < outputs; o++) { rows[o] += record.Rows[o]; values[o] += record.Values[o]; }
            if (record.Rows.Sum() == 0) continue;
            if (plan.Format == "csv" && width >= 0 && record.Width != width)
                throw new DatasetFormatException(Describe(plan, r), 0, $"rows of {record.Width} feature columns, where earlier rows have {width}: every row needs the label and the same number of features.");
            width = Math.Max(width, record.Width);
            maxLabel = Math.Max(maxLabel, record.MaxLabel);
            if (record.SawZero) zeroRange ??= r;
            if (record.SawMinusOne) minusOneRange ??= r;
        }

        var total = rows.Sum();
        if (total == 0)
            throw new DatasetFormatException(plan.Files[0].Key, 0, "the dataset has no rows: every line is blank, a comment or the CSV header; check dataset.path names the data (and dataset.csvHeader).");
        if (zeroRange is { } zero && minusOneRange is { } minus)
            throw new DatasetFormatException(Describe(plan, Math.Max(zero, minus)), 0,
                $"labels mix 0 ({Describe(plan, zero)}) and -1 ({Describe(plan, minus)}): binary labels are either 0/1 or -1/+1; use the Raw label mapping for three classes.");
        var features = plan.Features ?? Math.Max(width, 1);
        for (var p = 0; p < plan.Partitions; p++)
        {
            if (rows[p] == 0)
                throw new ArgumentException(
                    $"{plan.Files[0].Key}: partition {p} received no rows ({total} rows, {total - rows[^1]} for training, {plan.Partitions} partitions): " +
                    "use fewer partitions (each needs at least one row) or a larger dataset.");
        }
        for (var o = 0; o < outputs; o++)
            PieceAssembler.CheckFits(rows[o], values[o], plan.Sparse, features, o == plan.Partitions ? "validation.part" : $"{o}.part", plan.Partitions);

        var summary = new PartitionSetManifest
        {
            Digest = set, Features = features, Rows = rows, Values = values, MaxLabel = maxLabel, Sparse = plan.Sparse, Ranges = plan.RangeCount,
        };
        await PartitionSets.WriteAsync(store, RunLayout.SetSummary(set), summary, ContractJson.Default.PartitionSetManifest).ConfigureAwait(false);
        return new PartitionOutput(set, total, clock.Elapsed.TotalSeconds);
    }

    private static string Describe(PartitionPlan plan, int range)
    {
        var r = RangePlan.At(plan.Files, plan.RangeBytes, range);
        return $"{plan.Files[r.File].Key} bytes {r.Start}-{r.End}";
    }

    private static async Task<PartitionOutput> AssembleAsync(FunctionContext context, string set, int output)
    {
        var clock = Stopwatch.StartNew();
        var store = context.Store;
        var summary = await PartitionSets.ReadAsync(store, RunLayout.SetSummary(set), ContractJson.Default.PartitionSetManifest).ConfigureAwait(false);
        var partitions = summary.Rows.Length - 1;
        if (output < 0 || output > partitions)
            throw new InvalidInputException($"Partition: output {output} is outside 0..{partitions} (the partitions, then validation)");
        var key = output == partitions ? RunLayout.SetValidation(set) : RunLayout.SetPartition(set, output);
        var pieces = Enumerable.Range(0, summary.Ranges).Select(r => RunLayout.SetPiece(set, r, output)).ToArray();
        var temp = Directory.CreateTempSubdirectory("stepml-assemble-");
        try
        {
            var path = Path.Combine(temp.FullName, "output.part");
            await Task.Run(() => PieceAssembler.Assemble(() => new PieceStream(store, pieces), key, summary.Rows[output], summary.Values[output],
                summary.Sparse, summary.Features, path)).ConfigureAwait(false);
            await using (var file = File.OpenRead(path))
                await store.PutAsync(key, file).ConfigureAwait(false);
            return new PartitionOutput(set, summary.Rows[output], clock.Elapsed.TotalSeconds, Output: output);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
