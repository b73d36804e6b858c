using System.Text.RegularExpressions;

namespace StepML.Storage;

/// <summary>Validation of keys and run ids that come from users (job specs, S3 events, CLI arguments).</summary>
public static partial class ObjectKey
{
    [GeneratedRegex(@"^[A-Za-z0-9!_.*'()\-]+(/[A-Za-z0-9!_.*'()\-]+)*$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")]
    private static partial Regex RunIdPattern();

    /// <summary>Throws <see cref="ArgumentException"/> naming the key when it is empty, absolute, contains
    /// <c>..</c> or <c>.</c> segments, backslashes, or characters outside <c>A-Z a-z 0-9 ! _ . * ' ( ) - /</c>.</summary>
    public static string Validate(string key, string what = "key")
    {
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException($"{what} is empty: give a relative key such as 'datasets/higgs.libsvm'");
        if (key.Length > 1024)
            throw new ArgumentException($"{what} '{key[..40]}…' is {key.Length} characters; the limit is 1024");
        if (key.StartsWith('/') || key.Contains('\\') || key.Contains(':'))
            throw new ArgumentException($"{what} '{key}' must be a relative key with '/' separators (no leading '/', no '\\', no ':')");
        foreach (var segment in key.Split('/'))
            if (segment is ".." or ".")
                throw new ArgumentException($"{what} '{key}' contains a '{segment}' segment; keys may not leave their folder");
        if (!KeyPattern().IsMatch(key))
            throw new ArgumentException($"{what} '{key}' has a character outside A-Z a-z 0-9 ! _ . * ' ( ) - / (or an empty segment)");
        return key;
    }

    /// <summary>Run ids: 1–80 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit.</summary>
    public static string ValidateRunId(string runId, string what = "runId")
    {
        if (string.IsNullOrEmpty(runId) || !RunIdPattern().IsMatch(runId) || runId.Contains(".."))
            throw new ArgumentException($"{what} '{runId}' is not valid: use 1-80 characters of A-Z a-z 0-9 _ . - starting with a letter or digit");
        return runId;
    }
}
