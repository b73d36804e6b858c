using System.CommandLine;
using System.Globalization;
using System.Text;
using StepML.Cli.Models;
using StepML.Core.Models;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml predict MODEL DATA</c> and <c>stepml evaluate MODEL DATA</c>: use a trained model on new rows.</summary>
internal static class PredictCommands
{
    private static Argument<string> ModelArgument() => new("MODEL")
    {
        Description = "A run id (its model/final.tensor in --store) or a .tensor file (its job: --job, or the run folder's job.json)",
    };

    private static Argument<string> DataArgument() => new("DATA")
    {
        Description = "Rows to score: a LIBSVM or CSV file, or a .part partition; a path that is not a local file is read from --store (e.g. partitions/DIGEST/validation.part); `validation` or `test` name the run's own partition",
    };

    private static Option<FileInfo?> JobOption() => new("--job") { Description = "The run's job.json, when MODEL is a .tensor file outside its run folder" };

    private static Option<string?> FormatOption() => new("--format") { Description = "Format of DATA: libsvm, csv or part (default: from the extension)" };

    public static Command Predict()
    {
        var (model, data, store, job, format) = (ModelArgument(), DataArgument(), StoreOption(), JobOption(), FormatOption());
        var output = new Option<FileInfo?>("--out") { Description = "Write the predictions to this CSV file instead of standard output" };
        var command = new Command("predict", "Score rows with a trained model: one CSV line per row with the class (cluster id for KMeans) and the probability (logistic), the score (SVM), one probability per class (softmax, MLP, CNN) or the squared distance (KMeans)")
        {
            model, data, store, job, format, output,
        };
        command.SetAction(async (parse, ct) =>
        {
            var objectStore = OpenExistingStore(parse.GetValue(store)!, parse.GetValue(model));
            var outPath = parse.GetValue(output) is { } file
                ? OutputPaths.File(file.ToString(), "--out", objectStore, parse.GetValue(data), parse.GetValue(model), parse.GetValue(job)?.FullName)
                : null;
            var trained = await TrainedModel.LoadAsync(parse.GetValue(model)!, objectStore, parse.GetValue(job), ct).ConfigureAwait(false);
            var rows = await trained.ReadDataAsync(parse.GetValue(data)!, objectStore, parse.GetValue(format), ct).ConfigureAwait(false);
            var predictions = Predictions.Of(trained.Model, trained.Parameters, rows);
            if (outPath is null)
            {
                WriteCsv(predictions, Console.Out);
                return 0;
            }
            await OutputPaths.WriteAsync(outPath, async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                WriteCsv(predictions, writer);
            }).ConfigureAwait(false);
            Console.Error.WriteLine($"wrote {predictions.Rows:N0} predictions to {outPath}");
            return 0;
        });
        return command;
    }

    public static Command Evaluate()
    {
        var (model, data, store, job, format) = (ModelArgument(), DataArgument(), StoreOption(), JobOption(), FormatOption());
        var command = new Command("evaluate", "Mean loss (without the L2 term, as Finalize reports validation) and the metric (accuracy, or inertia for KMeans) of a trained model on labelled rows")
        {
            model, data, store, job, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var objectStore = OpenExistingStore(parse.GetValue(store)!, parse.GetValue(model));
            var trained = await TrainedModel.LoadAsync(parse.GetValue(model)!, objectStore, parse.GetValue(job), ct).ConfigureAwait(false);
            var rows = await trained.ReadDataAsync(parse.GetValue(data)!, objectStore, parse.GetValue(format), ct).ConfigureAwait(false);
            var evaluation = trained.Model.Evaluate(trained.Parameters, rows);
            var metric = trained.Model.MetricName;
            Console.WriteLine($"{rows.Rows:N0} rows  loss {F(evaluation.MeanLoss)}  {metric} {(metric == "accuracy" ? F(evaluation.Accuracy * 100, "F4") + "%" : F(evaluation.Accuracy))}");
            return 0;
        });
        return command;
    }

    internal static void WriteCsv(PredictionSet predictions, TextWriter writer)
    {
        var header = new StringBuilder(predictions.Kind == "distance" ? "row,cluster" : "row,class");
        if (predictions.Columns == 1) header.Append(',').Append(predictions.Kind);
        else for (var k = 0; k < predictions.Columns; k++) header.Append(",p").Append(k);
        writer.WriteLine(header);
        var line = new StringBuilder();
        for (var r = 0; r < predictions.Rows; r++)
        {
            line.Clear().Append(r).Append(',').Append(predictions.Classes[r]);
            for (var k = 0; k < predictions.Columns; k++)
                line.Append(',').Append(predictions.Values[(long)r * predictions.Columns + k].ToString("R", CultureInfo.InvariantCulture));
            writer.WriteLine(line);
        }
    }
}
