using StepML.Functions;

namespace StepML.Cli.ServeLambda;

/// <summary>
/// The StepML handlers by Lambda function name (<c>stepml-Prepare</c> …, the names in
/// <see cref="LocalPipeline.FunctionArn"/>), each called through its deployed entry point
/// <c>Task&lt;Stream&gt; HandleAsync(Stream)</c> on one shared <see cref="FunctionContext"/>, as in one warm container.
/// </summary>
internal sealed class LambdaFunctionTable
{
    public const string NamePrefix = "stepml-";
    public const string LatestQualifier = "$LATEST";

    private readonly Dictionary<string, Func<Stream, Task<Stream>>> _handlers;

    public LambdaFunctionTable(FunctionContext context)
    {
        _handlers = new(StringComparer.Ordinal)
        {
            [NamePrefix + "Prepare"] = new PrepareFunction(context).HandleAsync,
            [NamePrefix + "Worker"] = new WorkerFunction(context).HandleAsync,
            [NamePrefix + "Merge"] = new MergeFunction(context).HandleAsync,
            [NamePrefix + "Decide"] = new DecideFunction(context).HandleAsync,
            [NamePrefix + "Finalize"] = new FinalizeFunction(context).HandleAsync,
            [NamePrefix + "RecordFailure"] = new RecordFailureFunction(context).HandleAsync,
            [NamePrefix + "Partition"] = new PartitionFunction(context).HandleAsync,
            [NamePrefix + "Search"] = new SearchFunction(context).HandleAsync,
        };
    }

    public IEnumerable<string> Names => _handlers.Keys;

    /// <summary>
    /// Resolves the FunctionName forms the Invoke API accepts: a name (<c>stepml-Worker</c>), a full ARN
    /// (<c>arn:aws:lambda:us-east-1:123456789012:function:stepml-Worker</c>, any partition, region and account) or a
    /// partial ARN (<c>123456789012:function:stepml-Worker</c>), each optionally with a <c>:$LATEST</c> suffix; a
    /// separate Qualifier (the query parameter) must agree. Only <c>$LATEST</c> exists here: there are no versions or aliases.
    /// </summary>
    public bool TryResolve(string functionName, string? qualifier, out string name, out Func<Stream, Task<Stream>> handler)
    {
        handler = null!;
        name = ParseName(functionName, out var suffix);
        if (suffix is not null && qualifier is not null && suffix != qualifier) return false;
        var effective = suffix ?? qualifier;
        if (effective is not null && effective != LatestQualifier) return false;
        if (!_handlers.TryGetValue(name, out var found)) return false;
        handler = found;
        return true;
    }

    private static string ParseName(string functionName, out string? qualifier)
    {
        qualifier = null;
        var parts = functionName.Split(':');
        // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        if (parts.Length is 7 or 8 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function")
        {
            if (parts.Length == 8) qualifier = parts[7];
            return parts[6];
        }
        // ACCOUNT:function:NAME[:QUALIFIER]
        if (parts.Length is 3 or 4 && parts[1] == "function")
        {
            if (parts.Length == 4) qualifier = parts[3];
            return parts[2];
        }
        // NAME[:QUALIFIER]
        if (parts.Length == 2)
        {
            qualifier = parts[1];
            return parts[0];
        }
        return parts.Length == 1 ? parts[0] : functionName;
    }
}
