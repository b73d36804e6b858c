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
    public const string HeartbeatTimeout = "States.HeartbeatTimeout";
    // What Lambda reports when a function runs past its configured timeout: a function error, not a States.* one.
    public const string FunctionTimedOut = "Sandbox.Timedout";
    public const string NoChoiceMatched = "States.NoChoiceMatched";
    public const string ResultPathMatchFailure = "States.ResultPathMatchFailure";
    public const string IntrinsicFailure = "States.IntrinsicFailure";
    public const string DataLimitExceeded = "States.DataLimitExceeded";
    public const string ExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold";

    public static bool IsTimeout(string error) => error is Timeout or HeartbeatTimeout;

    // ErrorEquals matching as documented: States.ALL matches everything except the terminal
    // States.DataLimitExceeded and States.Runtime; States.TaskFailed matches any error except the timeouts;
    // States.Timeout covers a missed heartbeat as well ("ran longer than TimeoutSeconds, or failed to send a
    // heartbeat for longer than HeartbeatSeconds").
    public static bool Matches(string[] errorEquals, string error)
    {
        foreach (var name in errorEquals)
        {
            if (name == error) return true;
            if (name == All && error != DataLimitExceeded && error != Runtime) return true;
            if (name == TaskFailed && !IsTimeout(error) && error != DataLimitExceeded && error != Runtime) return true;
            if (name == Timeout && error == HeartbeatTimeout) return true;
        }
        return false;
    }
}
