using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Core.Jobs;

namespace StepML.Cli.Commands;

/// <summary><c>--set FIELD=VALUE</c>: overrides one job field (a dotted JSON path, e.g. algorithm.rho=0.05) before the
/// job is validated, so an override passes the same checks as the file (unknown fields, ranges, combinations).
/// VALUE is read as JSON when it parses (0.05, true, [64, 32], "text"), else as a string (admm).</summary>
internal static class JobOverrides
{
    public static void Apply(JsonObject job, IEnumerable<string> overrides)
    {
        foreach (var item in overrides)
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new UsageException($"--set {item}: write FIELD=VALUE with a dotted job field, e.g. --set algorithm.rho=0.05");
            var path = item[..equals].Trim();
            if (JobFieldOverride.Parts(path) is null) throw new UsageException($"--set {item}: '{path}' is not a field path (e.g. algorithm.rho)");
            try
            {
                JobFieldOverride.Set(job, path, Value(item[(equals + 1)..]));
            }
            catch (JobSpecException e)
            {
                throw new JobSpecException(path, $"--set {item}: {e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]}");
            }
        }
    }

    internal static JsonNode? Value(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>Validates the job after the overrides; an error in an overridden field names the --set that caused it.</summary>
    public static JobSpec Parse(JsonObject job, string fileName, IReadOnlyList<string> overrides)
    {
        try
        {
            return JobSpecParser.Parse(job.ToJsonString());
        }
        catch (JobSpecException e)
        {
            var culprit = overrides.FirstOrDefault(o => e.Field.StartsWith(o.Split('=')[0].Trim(), StringComparison.Ordinal)
                || o.Split('=')[0].Trim().StartsWith(e.Field, StringComparison.Ordinal));
            throw e.From(culprit is null ? fileName : $"--set {culprit}");
        }
    }
}
