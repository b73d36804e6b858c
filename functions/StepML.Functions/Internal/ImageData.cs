using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>Prepare's handling of the image formats: IDX (images + labels files) and CIFAR-10 binary batches become
/// row sources for the common <see cref="Partitioner"/>; the image shape and class count resolve the model spec.</summary>
internal static class ImageData
{
    public static bool IsImageFormat(string format) => format is "idx" or "cifar";

    /// <param name="field">"dataset" or "dataset.test", for error messages.</param>
    public static PartitionSummary Partition(IObjectStore store, string format, string imagesKey, string labelsKey, string field, PartitionOptions options, string outputDirectory)
    {
        if (format == "cifar")
            return Partitioner.Run(() => new CifarReader(Open(store, imagesKey), imagesKey), imagesKey,
                options with { Features = CifarReader.Features }, outputDirectory);
        var labelsField = field == "dataset" ? "dataset.labels" : "dataset.testLabels";
        ObjectKey.Validate(labelsKey, labelsField);
        if (!store.ExistsAsync(labelsKey).GetAwaiter().GetResult())
            throw new JobSpecException(labelsField, $"no object '{labelsKey}' in {store.Uri}: upload the IDX labels file there or fix the path");
        int features;
        using (var peek = OpenIdx(store, imagesKey, labelsKey)) features = peek.Features;
        return Partitioner.Run(() => OpenIdx(store, imagesKey, labelsKey), imagesKey, options with { Features = features }, outputDirectory);
    }

    /// <summary>Fills model.classes (max label + 1) and, for image data, model.inputShape when the job left them out.</summary>
    public static ModelSpec ResolveModel(ModelSpec model, PartitionSummary summary, int[] imageShape)
    {
        if (!ModelTypes.IsClassifier(model.Type)) return model;
        var classes = model.Classes;
        if (classes == 0)
        {
            if (summary.MaxLabel != MathF.Floor(summary.MaxLabel) || summary.MaxLabel < 1)
                throw new JobSpecException("model.classes", $"labels must be class ids 0..K−1 for model '{model.Type}', but the largest label is {summary.MaxLabel}");
            classes = (int)summary.MaxLabel + 1;
        }
        else if (summary.MaxLabel >= classes)
        {
            throw new JobSpecException("model.classes", $"{classes} classes, but the data has label {summary.MaxLabel}: set model.classes to {(int)summary.MaxLabel + 1} or more");
        }
        return model with { Classes = classes, InputShape = model.InputShape.Length == 0 ? imageShape : model.InputShape };
    }

    /// <summary>[height, width, channels] of an image dataset (from the IDX header); empty for text formats.</summary>
    public static int[] Shape(IObjectStore store, string format, string imagesKey, string labelsKey)
    {
        if (format == "cifar") return [CifarReader.Height, CifarReader.Width, CifarReader.Channels];
        if (format != "idx") return [];
        using var peek = OpenIdx(store, imagesKey, labelsKey);
        return [peek.Height, peek.Width, peek.Channels];
    }

    private static IdxReader OpenIdx(IObjectStore store, string imagesKey, string labelsKey) =>
        new(Open(store, imagesKey), Open(store, labelsKey), imagesKey, labelsKey);

    private static Stream Open(IObjectStore store, string key) => store.OpenReadAsync(key).GetAwaiter().GetResult();
}
