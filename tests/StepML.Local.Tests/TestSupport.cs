using System.Text;
using System.Text.Json.Nodes;

namespace StepML.Local.Tests;

// The real IFunctionInvoker contract backed by in-test delegates.
internal sealed class FunctionTable : IFunctionInvoker
{
    private readonly Dictionary<string, Func<JsonNode?, CancellationToken, Task<JsonNode?>>> _functions = new(StringComparer.Ordinal);
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public FunctionTable Add(string name, Func<JsonNode?, JsonNode?> function)
    {
        _functions[name] = (input, _) => Task.FromResult(function(input));
        return this;
    }

    public FunctionTable AddAsync(string name, Func<JsonNode?, CancellationToken, Task<JsonNode?>> function)
    {
        _functions[name] = function;
        return this;
    }

    public async Task<Stream> InvokeAsync(string functionName, Stream payload, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        if (!_functions.TryGetValue(functionName, out var function))
            throw new KeyNotFoundException($"No function '{functionName}' in the test table");
        var input = await JsonNode.ParseAsync(payload, cancellationToken: ct);
        var output = await function(input, ct);
        return new MemoryStream(Encoding.UTF8.GetBytes(output?.ToJsonString() ?? "null"));
    }
}

internal static class Asl
{
    public static LocalEngineOptions Fast => new() { WaitTimeScale = 0 };

    public static async Task<(ExecutionResult Result, Execution Execution, LocalEngine Engine)> RunAsync(
        string asl, string input = "{}", FunctionTable? functions = null, LocalEngineOptions? options = null)
    {
        var engine = new LocalEngine(functions ?? new FunctionTable(), options ?? Fast);
        engine.Register(StateMachineDefinition.Parse(asl, name: "Test"));
        var execution = engine.StartExecution("Test", input, "run-1");
        var result = await execution.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        return (result, execution, engine);
    }

    public static async Task<JsonNode?> OutputAsync(string asl, string input = "{}", FunctionTable? functions = null)
    {
        var (result, _, _) = await RunAsync(asl, input, functions);
        Assert.True(result.Status == "SUCCEEDED", $"expected success, got {result.Error}: {result.Cause}");
        return JsonNode.Parse(result.OutputJson!);
    }

    // A one-state Pass machine whose Parameters are parametersJson.
    public static string PassWithParameters(string parametersJson)
        => """{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":@@parametersJson@@,"End":true}}}""".Replace("@@parametersJson@@", parametersJson);

    public static void JsonEqual(string expectedJson, JsonNode? actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), actual), $"expected {expectedJson}\n  actual {actual?.ToJsonString() ?? "null"}");
}

// Records every timer due time and fires at once, so real retry/wait delays can be checked without waiting.
internal sealed class RecordingTimeProvider : TimeProvider
{
    private readonly List<TimeSpan> _delays = [];

    public IReadOnlyList<TimeSpan> Delays
    {
        get { lock (_delays) return _delays.ToArray(); }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_delays) _delays.Add(dueTime);
        return System.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}
