using System.CommandLine;
using StepML.Cli.Export;
using StepML.Cli.Models;
using StepML.Core.Models;
using StepML.Storage;
using static StepML.Cli.Commands.Common;

namespace StepML.Cli.Commands;

/// <summary><c>stepml export RUN --format npy|onnx</c>: the final model in formats other tools read.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "A run id (its model/final.tensor in --store) or a .tensor file" };
        var format = new Option<string>("--format") { Description = "npy: one .npy file per parameter tensor (every model); onnx: an ONNX graph (logistic, svm, softmax, mlp, cnn)", Required = true };
        format.AcceptOnlyFromAmong("npy", "onnx");
        var output = new Option<string?>("--out") { Description = "Output folder (npy; default RUN-npy) or file (onnx; default RUN.onnx)" };
        var store = StoreOption();
        var job = new Option<FileInfo?>("--job") { Description = "The run's job.json, when RUN is a .tensor file outside its run folder" };
        var command = new Command("export", "Write a trained model as NumPy arrays or as an ONNX graph") { run, format, output, store, job };
        command.SetAction(async (parse, ct) =>
        {
            var objectStore = OpenExistingStore(parse.GetValue(store)!, parse.GetValue(run));
            var onnx = parse.GetValue(format) == "onnx";
            if (parse.GetValue(output) is { } requested)
            {
                if (onnx) OutputPaths.File(requested, "--out", objectStore, parse.GetValue(run), parse.GetValue(job)?.FullName);
                else OutputPaths.Folder(requested, "--out", objectStore);
            }
            var trained = await TrainedModel.LoadAsync(parse.GetValue(run)!, objectStore, parse.GetValue(job), ct).ConfigureAwait(false);
            var name = trained.RunId ?? Path.GetFileNameWithoutExtension(trained.Source);
            if (onnx)
            {
                if (!OnnxExporter.CanExport(trained.Model))
                    throw new UsageException($"ONNX export supports logistic, svm, softmax, mlp and cnn models, not '{trained.Model.Type}': use --format npy");
                var file = OutputPaths.File(parse.GetValue(output) ?? name + ".onnx", "--out", objectStore, trained.Source);
                var bytes = OnnxExporter.Export(trained.Model, trained.Parameters, name);
                await OutputPaths.WriteAsync(file, stream => stream.WriteAsync(bytes, ct).AsTask()).ConfigureAwait(false);
                Console.WriteLine($"wrote {Path.GetFullPath(file)} (input \"input\" [N, {trained.Model.Features}])");
                return 0;
            }
            var folder = Directory.CreateDirectory(parse.GetValue(output) ?? name + "-npy");
            foreach (var tensor in ParameterLayout.Of(trained.Model))
            {
                var path = Path.Combine(folder.FullName, tensor.Name + ".npy");
                await File.WriteAllBytesAsync(path, NpyWriter.Float32(trained.Parameters.AsSpan(tensor.Offset, tensor.Length), tensor.Shape), ct).ConfigureAwait(false);
                Console.WriteLine($"{path}  {tensor.Name} [{string.Join(", ", tensor.Shape)}]");
            }
            return 0;
        });
        return command;
    }
}
