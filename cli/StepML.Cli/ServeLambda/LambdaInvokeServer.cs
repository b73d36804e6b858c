using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace StepML.Cli.ServeLambda;

/// <summary>
/// An HTTP server for the Lambda Invoke API (<c>POST /2015-03-31/functions/{FunctionName}/invocations</c>, synchronous
/// RequestResponse) in front of the StepML handlers, so that any Step Functions engine whose Task states call Lambda
/// through an AWS SDK can run statemachines/train.asl.json against the real handlers.
/// Kestrel rather than HttpListener: it binds port 0 atomically and reports the port it got (HttpListener needs a
/// probe-then-bind that races), enforces the request-size limit, and drains in-flight invocations on shutdown.
/// It has no authentication, so it binds to loopback unless told otherwise.
/// </summary>
internal sealed class LambdaInvokeServer : IAsyncDisposable
{
    /// <summary>Lambda's synchronous payload limit, for requests and responses alike (6 MB).</summary>
    public const int MaxPayloadBytes = 6 * 1024 * 1024;

    private readonly WebApplication _app;

    private LambdaInvokeServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<LambdaInvokeServer> StartAsync(LambdaFunctionTable functions, IPAddress address, int port, TextWriter? log, CancellationToken cancellationToken = default)
    {
        // The empty builder reads no appsettings.json or ASPNETCORE_* variables from wherever it is started, so
        // nothing but these arguments decides where it listens.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.Listen(address, port);
            // A hard stop well above Lambda's limit; bodies between the two are drained and answered with a 413.
            options.Limits.MaxRequestBodySize = 4L * MaxPayloadBytes;
            options.AddServerHeader = false;
        });
        // Ctrl-C and SIGTERM belong to the command (System.CommandLine cancels its token); the host must not
        // install a second set of signal handlers.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        var app = builder.Build();
        var endpoint = new InvokeEndpoint(functions, log);
        app.Run(endpoint.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started but reported no listening address");
        return new LambdaInvokeServer(app, new Uri(bound));
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// One Invoke request, answered as Lambda answers it: 200 with the function's output; 200 with
/// <c>X-Amz-Function-Error: Unhandled</c> and <c>{"errorType", "errorMessage"}</c> when the function threw;
/// a 4xx with <c>x-amzn-ErrorType</c> and a <c>{"Type", "Message"}</c> body when the request itself is wrong.
/// </summary>
internal sealed class InvokeEndpoint(LambdaFunctionTable functions, TextWriter? log)
{
    private const string ApiPrefix = "/2015-03-31/functions/";
    private const string ApiSuffix = "/invocations";

    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var path = request.Path.Value ?? "";
        if (!path.StartsWith(ApiPrefix, StringComparison.Ordinal) || !path.EndsWith(ApiSuffix, StringComparison.Ordinal) || path.Length <= ApiPrefix.Length + ApiSuffix.Length)
        {
            await ServiceErrorAsync(http, StatusCodes.Status404NotFound, "UnknownOperationException",
                $"{request.Method} {path}: serve-lambda implements only the Invoke API, POST {ApiPrefix}{{FunctionName}}{ApiSuffix}").ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.Headers.Allow = "POST";
            await ServiceErrorAsync(http, StatusCodes.Status405MethodNotAllowed, "MethodNotAllowedException", $"{request.Method} {path}: Invoke takes POST").ConfigureAwait(false);
            return;
        }

        var functionName = path[ApiPrefix.Length..^ApiSuffix.Length];
        var qualifier = request.Query["Qualifier"].FirstOrDefault();
        if (!functions.TryResolve(functionName, qualifier, out var name, out var handler))
        {
            await ServiceErrorAsync(http, StatusCodes.Status404NotFound, "ResourceNotFoundException",
                $"Function not found: {functionName}{(qualifier is null ? "" : ":" + qualifier)}. serve-lambda serves {string.Join(", ", functions.Names)} (by name or ARN, version $LATEST only)").ConfigureAwait(false);
            return;
        }

        var invocationType = request.Headers["X-Amz-Invocation-Type"].FirstOrDefault() ?? "RequestResponse";
        if (invocationType is not ("RequestResponse" or "DryRun"))
        {
            await ServiceErrorAsync(http, StatusCodes.Status400BadRequest, "InvalidParameterValueException",
                $"X-Amz-Invocation-Type '{invocationType}': serve-lambda supports RequestResponse and DryRun (Step Functions Task states invoke synchronously)").ConfigureAwait(false);
            return;
        }

        byte[] payload;
        try
        {
            payload = await ReadBodyAsync(request, http.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ServiceErrorAsync(http, StatusCodes.Status413PayloadTooLarge, "RequestTooLargeException",
                $"Request must be smaller than {LambdaInvokeServer.MaxPayloadBytes} bytes for the InvokeFunction operation").ConfigureAwait(false);
            return;
        }
        if (payload.Length > 0 && !IsJson(payload))
        {
            await ServiceErrorAsync(http, StatusCodes.Status400BadRequest, "InvalidRequestContentException", "Could not parse request body into json: the payload is not valid JSON").ConfigureAwait(false);
            return;
        }
        if (invocationType == "DryRun")
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await InvokeAsync(http, name, handler, payload).ConfigureAwait(false);
    }

    private async Task InvokeAsync(HttpContext http, string name, Func<Stream, Task<Stream>> handler, byte[] payload)
    {
        var clock = Stopwatch.StartNew();
        byte[] output;
        try
        {
            var result = await handler(new MemoryStream(payload, writable: false)).ConfigureAwait(false);
            await using (result.ConfigureAwait(false))
            {
                using var copy = new MemoryStream();
                await result.CopyToAsync(copy).ConfigureAwait(false);
                output = copy.ToArray();
            }
        }
        catch (Exception e)
        {
            // Lambda reports an exception escaping the handler as a function error, not an HTTP error; Step Functions
            // takes errorType as the state's Error, so it must be the exception's short type name, as the ASL expects.
            log?.WriteLine($"{name}  Unhandled {e.GetType().Name}: {e.Message}  ({clock.Elapsed.TotalMilliseconds:F1} ms)");
            await FunctionErrorAsync(http, e.GetType().Name, e.Message).ConfigureAwait(false);
            return;
        }
        if (output.Length > LambdaInvokeServer.MaxPayloadBytes)
        {
            log?.WriteLine($"{name}  response of {output.Length} bytes exceeds the payload limit");
            await FunctionErrorAsync(http, "Function.ResponseSizeTooLarge",
                $"Response payload size ({output.Length} bytes) exceeded maximum allowed payload size ({LambdaInvokeServer.MaxPayloadBytes} bytes).").ConfigureAwait(false);
            return;
        }
        log?.WriteLine($"{name}  200  {payload.Length} -> {output.Length} bytes  ({clock.Elapsed.TotalMilliseconds:F1} ms)");
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        http.Response.Headers["X-Amz-Executed-Version"] = LambdaFunctionTable.LatestQualifier;
        http.Response.ContentLength = output.Length;
        await http.Response.Body.WriteAsync(output, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Reads the whole body, keeping at most the payload limit: an oversized body is drained rather than
    /// left unread, so the client gets the 413 instead of a connection reset mid-upload.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        var tooLarge = false;
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > LambdaInvokeServer.MaxPayloadBytes) tooLarge = true;
            if (!tooLarge) buffer.Write(chunk, 0, read);
        }
        if (tooLarge) throw new BadHttpRequestException("payload too large", StatusCodes.Status413PayloadTooLarge);
        return buffer.ToArray();
    }

    private static bool IsJson(byte[] payload)
    {
        try
        {
            using var _ = JsonDocument.Parse(payload);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Task FunctionErrorAsync(HttpContext http, string errorType, string message)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.Headers["X-Amz-Function-Error"] = "Unhandled";
        http.Response.Headers["X-Amz-Executed-Version"] = LambdaFunctionTable.LatestQualifier;
        return WriteJsonAsync(http, new JsonObject { ["errorType"] = errorType, ["errorMessage"] = message });
    }

    /// <summary>An error of the Lambda service itself: the AWS SDKs read the error code from <c>x-amzn-ErrorType</c>.</summary>
    private static Task ServiceErrorAsync(HttpContext http, int status, string errorType, string message)
    {
        http.Response.StatusCode = status;
        http.Response.Headers["x-amzn-ErrorType"] = errorType;
        return WriteJsonAsync(http, new JsonObject { ["Type"] = "User", ["Message"] = message });
    }

    private static Task WriteJsonAsync(HttpContext http, JsonObject body)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body.ToJsonString());
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = bytes.Length;
        return http.Response.Body.WriteAsync(bytes, http.RequestAborted).AsTask();
    }
}
