namespace StepML.Core.Data;

/// <summary>
/// Class-id labels for multi-class models (softmax, MLP, CNN): each label must be an integer 0..K−1 with K bounded,
/// checked row by row while partitioning, so a stray 1e9 or 2.5 is reported with its file and line before the
/// model's size (K × features) is computed from it, let alone allocated.
/// </summary>
public static class ClassLabels
{
    /// <summary>The most classes a job may have (model.classes has the same bound).</summary>
    public const int DefaultMaxClasses = 100_000;

    /// <param name="maxClasses">K: model.classes when the job sets it, else <see cref="DefaultMaxClasses"/>.</param>
    /// <param name="fromJob">Whether K is the job's model.classes (the message then says so).</param>
    public static float Check(float label, int maxClasses, bool fromJob, string source, long line)
    {
        if (label != MathF.Floor(label) || label < 0 || float.IsNaN(label))
        {
            throw new DatasetFormatException(
                source, line, $"label {label} is not a class id: multi-class models read labels as integers 0, 1, …, K−1; map the classes to such ids (or use model.type \"logistic\" for 0/1 labels).");
        }

        if (label >= maxClasses)
        {
            throw new DatasetFormatException(source, line, fromJob
                ? $"label {label} is not below model.classes = {maxClasses}: set model.classes to {label + 1:0} or more, or fix the label."
                : $"label {label:0} would mean {label + 1:0} classes; at most {maxClasses:N0} are supported: class ids must be 0..K−1 (renumber them), or set model.classes.");
        }

        return label;
    }
}
