using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using StepML.Cli.ServeLambda;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.Tests.SecondEngine;

/// <summary><c>stepml serve-lambda</c> speaks the Lambda Invoke API as the AWS SDKs expect it.</summary>
public sealed class ServeLambdaTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-serve-").FullName;
    private readonly HttpClient _http = new();
    private InProcessLambdaServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessLambdaServer.StartAsync(new FileObjectStore(_root));

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private Task<HttpResponseMessage> InvokeAsync(string functionName, string body, string? query = null) =>
        _http.PostAsync(new Uri(_server.BaseAddress, $"/2015-03-31/functions/{Uri.EscapeDataString(functionName)}/invocations{query}"),
            new StringContent(body, Encoding.UTF8, "application/json"));

    private const string FailureInput = """{"runId": "serve-test", "error": {"Error": "States.Timeout", "Cause": "too slow"}}""";

    [Theory]
    [InlineData("stepml-RecordFailure")]
    [InlineData("arn:aws:lambda:us-east-1:123456789012:function:stepml-RecordFailure")]
    [InlineData("arn:aws:lambda:local:000000000000:function:stepml-RecordFailure:$LATEST")]
    [InlineData("123456789012:function:stepml-RecordFailure")]
    public async Task Invoke_FunctionByNameOrArn_Returns200WithHandlerOutput(string functionName)
    {
        using var response = await InvokeAsync(functionName, FailureInput);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"));
        var output = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("States.Timeout", output["error"]!.GetValue<string>());
        Assert.Equal("too slow", output["cause"]!.GetValue<string>());
        // The handler really ran against the served store.
        Assert.True(File.Exists(Path.Combine(_root, "runs", "serve-test", "failure.json")));
    }

    [Fact]
    public async Task Invoke_HandlerThrows_Returns200WithUnhandledHeaderAndErrorTypeBody()
    {
        using var response = await InvokeAsync("stepml-Prepare", "null");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Unhandled", Assert.Single(response.Headers.GetValues("X-Amz-Function-Error")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(nameof(InvalidInputException), body["errorType"]!.GetValue<string>());
        Assert.StartsWith("Prepare: the input is JSON null", body["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, body.Count);
    }

    [Fact]
    public async Task Invoke_PrepareOfMissingDataset_ErrorTypeIsTheExceptionShortName()
    {
        var job = """{"runId": "serve-test", "dataset": {"path": "datasets/absent.libsvm", "features": 4}}""";

        using var response = await InvokeAsync("stepml-Prepare", job);

        Assert.Equal("Unhandled", Assert.Single(response.Headers.GetValues("X-Amz-Function-Error")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(nameof(StepML.Core.Jobs.JobSpecException), body["errorType"]!.GetValue<string>());
        Assert.Contains("datasets/absent.libsvm", body["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stepml-Nope", null)]
    [InlineData("Prepare", null)]
    [InlineData("arn:aws:lambda:us-east-1:123456789012:function:other-Prepare", null)]
    [InlineData("stepml-Prepare", "?Qualifier=7")]
    [InlineData("stepml-Prepare:prod", null)]
    public async Task Invoke_UnknownFunctionOrVersion_Returns404ResourceNotFound(string functionName, string? query)
    {
        using var response = await InvokeAsync(functionName, "{}", query);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("ResourceNotFoundException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("User", body["Type"]!.GetValue<string>());
        Assert.StartsWith("Function not found: ", body["Message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_BodyIsNotJson_Returns400InvalidRequestContent()
    {
        using var response = await InvokeAsync("stepml-Decide", "{not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("InvalidRequestContentException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
    }

    [Fact]
    public async Task Invoke_PayloadOverSixMegabytes_Returns413RequestTooLarge()
    {
        var big = "\"" + new string('x', LambdaInvokeServer.MaxPayloadBytes) + "\"";

        using var response = await InvokeAsync("stepml-Decide", big);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("RequestTooLargeException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
    }

    [Fact]
    public async Task Invoke_AsyncEventInvocationType_Returns400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.BaseAddress, "/2015-03-31/functions/stepml-Decide/invocations"))
        {
            Content = new StringContent("{}"),
        };
        request.Headers.Add("X-Amz-Invocation-Type", "Event");

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("InvalidParameterValueException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
    }

    [Fact]
    public async Task Get_InvokePath_Returns405AndOtherPaths404()
    {
        using var get = await _http.GetAsync(new Uri(_server.BaseAddress, "/2015-03-31/functions/stepml-Decide/invocations"));
        using var other = await _http.PostAsync(new Uri(_server.BaseAddress, "/2015-03-31/functions"), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("UnknownOperationException", Assert.Single(other.Headers.GetValues("x-amzn-ErrorType")));
    }

    [Fact]
    public void StartAsync_PortZero_BindsLoopbackOnAChosenPort()
    {
        Assert.Equal("127.0.0.1", _server.BaseAddress.Host);
        Assert.InRange(_server.BaseAddress.Port, 1, 65535);
    }
}

/// <summary>The built <c>stepml serve-lambda</c> as a user runs it: prints its address, serves, stops on SIGTERM.</summary>
public sealed class ServeLambdaCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-serve-cli-").FullName;
    private Process? _process;

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ServeLambda_PortZeroThenSigterm_PrintsAddressServesAndExitsZero()
    {
        var stepml = Path.Combine(AppContext.BaseDirectory, "stepml.dll");
        Assert.True(File.Exists(stepml), $"{stepml} is missing: the test project should copy the referenced CLI's output");
        var info = new ProcessStartInfo("dotnet", [stepml, "serve-lambda", "--port", "0", "--store", _root])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info)!;
        var stderr = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var first = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.NotNull(first);
        Assert.Matches(@"^listening on http://127\.0\.0\.1:\d+$", first);
        var address = new Uri(first["listening on ".Length..]);
        Assert.NotEqual(0, address.Port);

        using (var http = new HttpClient())
        using (var response = await http.PostAsync(new Uri(address, "/2015-03-31/functions/stepml-RecordFailure/invocations"),
                   new StringContent("""{"error": {"Error": "E", "Cause": "C"}}"""), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("E", JsonNode.Parse(await response.Content.ReadAsStringAsync(timeout.Token))!["error"]!.GetValue<string>());
        }

        Assert.Equal(0, Kill(_process.Id, Sigterm));
        var rest = await _process.StandardOutput.ReadToEndAsync(timeout.Token);
        await _process.WaitForExitAsync(timeout.Token);
        Assert.True(_process.ExitCode == 0, $"exit code {_process.ExitCode}; stdout: {rest}; stderr: {await stderr}");
        Assert.Contains("stopping", rest, StringComparison.Ordinal);
        Assert.Contains("stepml-RecordFailure  200", await stderr, StringComparison.Ordinal);
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
