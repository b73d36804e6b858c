using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Functions;

/// <summary>
/// Checks at Prepare, in 64-bit arithmetic and before anything is allocated or uploaded, that the run fits: the
/// model's parameter count (a float array, so under 2³¹), shards no more than parameters, and a worker's memory
/// (workers.memoryMb) holding its partition and the model.
/// </summary>
/// <remarks>A worker holds its partition twice while decoding it (the object's bytes and the arrays), and per
/// parameter 16 bytes: the parameters, a gradient or statistic, and up to two optimizer moments (Adam).</remarks>
public static class SizeLimits
{
    public const long RuntimeBytes = 64L << 20;
    public const int BytesPerParameter = 16;

    /// <summary>Throws <see cref="JobSpecException"/> naming the field to change when the run does not fit.</summary>
    /// <param name="model">The model with classes and input shape resolved from the data.</param>
    /// <param name="largestPartitionBytes">The largest training partition's encoded size.</param>
    /// <returns>The parameter count.</returns>
    public static long Check(JobSpec job, ModelSpec model, int features, long largestPartitionBytes)
    {
        var parameters = CheckModel(job, model, features);
        var needed = 2 * largestPartitionBytes + BytesPerParameter * parameters + RuntimeBytes;
        var memory = (long)job.Workers.MemoryMb << 20;
        if (needed > memory)
        {
            var partitionsNeeded = (int)Math.Min(int.MaxValue, Math.Ceiling(2.0 * largestPartitionBytes * job.Dataset.Partitions / Math.Max(1, memory - RuntimeBytes - BytesPerParameter * parameters)));
            throw new JobSpecException("workers.memoryMb", $"a worker needs about {needed >> 20:N0} MB (2 × its {largestPartitionBytes >> 20:N0} MB partition + {parameters:N0} parameters × {BytesPerParameter} bytes + {RuntimeBytes >> 20} MB runtime) but has {job.Workers.MemoryMb:N0} MB: raise workers.memoryMb to {Math.Min(10_240, (needed >> 20) + 1)} (10240 at most) or dataset.partitions to {partitionsNeeded} or more");
        }
        return parameters;
    }

    /// <summary>The checks that need no data: the parameter count, the shards and the model alone in a worker's
    /// memory. Prepare runs them before partitioning when the job states its features (and classes).</summary>
    public static long CheckModel(JobSpec job, ModelSpec model, int features)
    {
        var parameters = ParameterCount(model, features);
        if (parameters > Array.MaxLength)
            throw new JobSpecException(FieldOf(model), $"a '{model.Type}' model over {features:N0} features{ClassesText(model)} has {parameters:N0} parameters, more than one array holds ({Array.MaxLength:N0}): use fewer features, classes or hidden units");
        var shards = job.Communication.Shards;
        if (shards > parameters)
            throw new JobSpecException("communication.shards", $"{shards} shards for a model of {parameters} parameters: use at most {parameters}");
        var modelBytes = BytesPerParameter * parameters + RuntimeBytes;
        if (modelBytes > (long)job.Workers.MemoryMb << 20)
            throw new JobSpecException("workers.memoryMb", $"a worker needs {modelBytes >> 20:N0} MB for the model alone ({parameters:N0} parameters × {BytesPerParameter} bytes + {RuntimeBytes >> 20} MB runtime) but has {job.Workers.MemoryMb:N0} MB: use a smaller model{(job.Workers.MemoryMb < 10_240 ? " or raise workers.memoryMb" : "")}");
        return parameters;
    }

    /// <summary>The model's parameter count in 64 bits (never wraps; <see cref="long.MaxValue"/> when even that overflows).</summary>
    public static long ParameterCount(ModelSpec model, int features)
    {
        try
        {
            return checked(model.Type switch
            {
                ModelTypes.Logistic or ModelTypes.Svm => features + 1L,
                ModelTypes.KMeans => (long)features * model.Clusters,
                ModelTypes.Softmax => (features + 1L) * model.Classes,
                ModelTypes.Mlp => Dense(features, model.Hidden, model.Classes),
                // Convolutions are small; only their last dense layer can be large, and the layers compute it checked.
                _ => Models.Create(model, features).ParameterCount,
            });
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    private static long Dense(int features, int[] hidden, int classes)
    {
        long total = 0;
        long width = features;
        foreach (var h in hidden)
        {
            total = checked(total + (width + 1) * h);
            width = h;
        }
        return checked(total + (width + 1) * classes);
    }

    private static string FieldOf(ModelSpec model) => model.Type switch
    {
        ModelTypes.KMeans => "model.clusters",
        ModelTypes.Mlp => "model.hidden",
        ModelTypes.Softmax or ModelTypes.Cnn => "model.classes",
        ModelTypes.ResNet or ModelTypes.MobileNet => "model.widthMultiplier",
        _ => "dataset.features",
    };

    private static string ClassesText(ModelSpec model) => ModelTypes.IsClassifier(model.Type) ? $" and {model.Classes:N0} classes" : "";
}
