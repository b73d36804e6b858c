using System.Text.Json.Nodes;

namespace StepML.Core.Jobs;

/// <summary>Sets one job field by its dotted JSON path (algorithm.rho) before the job is validated, creating the objects
/// on the way: what <c>stepml run --set</c> and each trial of a hyper-parameter search do, so both get the job parser's
/// checks (unknown fields with "did you mean", ranges, combinations).</summary>
public static class JobFieldOverride
{
    /// <summary>Splits "algorithm.rho" into its parts; null when the text is not a dotted field path.</summary>
    public static string[]? Parts(string path)
    {
        var parts = path.Trim().Split('.');
        return parts.Any(p => p.Length == 0) ? null : parts;
    }

    /// <summary>Sets <paramref name="value"/> (a copy) at <paramref name="path"/>; a path through a field that is not an
    /// object is a <see cref="JobSpecException"/> naming it.</summary>
    public static void Set(JsonObject job, string path, JsonNode? value)
    {
        var parts = Parts(path) ?? throw new JobSpecException(path, $"'{path}' is not a field path (e.g. algorithm.rho)");
        var target = job;
        foreach (var part in parts[..^1])
        {
            if (target[part] is null) target[part] = new JsonObject();
            target = target[part] as JsonObject
                ?? throw new JobSpecException(path, $"'{part}' is not an object in the job, so it has no field '{parts[^1]}'");
        }
        target[parts[^1]] = value?.DeepClone();
    }
}
