using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// A runtime error in ASL terms: an Error name matched by Retry/Catch and a Cause string.
internal sealed class StatesError : Exception
{
    public StatesError(string error, string cause) : base($"{error}: {cause}")
    {
        Error = error;
        Cause = cause;
    }

    public string Error { get; }
    public string Cause { get; }

    public JsonObject ToErrorOutput() => new() { ["Error"] = Error, ["Cause"] = Cause };

    public static StatesError Runtime(string cause) => new(ErrorNames.Runtime, cause);
}

internal static class ErrorNames
{
    public const string All = "States.ALL";
    public const string Runtime = "States.Runtime";
    public const string TaskFailed = "States.TaskFailed";
    public const string Timeout = "States.Timeout";
    public const string NoChoiceMatched = "States.NoChoiceMatched";
    public const string ResultPathMatchFailure = "States.ResultPathMatchFailure";
    public const string IntrinsicFailure = "States.IntrinsicFailure";
    public const string DataLimitExceeded = "States.DataLimitExceeded";
    public const string ExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold";

    // ErrorEquals matching as documented: States.ALL matches everything except the terminal
    // States.DataLimitExceeded and States.Runtime; States.TaskFailed matches any error except States.Timeout.
    public static bool Matches(string[] errorEquals, string error)
    {
        foreach (var name in errorEquals)
        {
            if (name == error) return true;
            if (name == All && error != DataLimitExceeded && error != Runtime) return true;
            if (name == TaskFailed && error != Timeout && error != DataLimitExceeded && error != Runtime) return true;
        }
        return false;
    }
}
