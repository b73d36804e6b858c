using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using StepML.Functions;
using StepML.Storage;

namespace StepML.Cli.ServeLambda;

/// <summary><c>stepml serve-lambda</c>: the handlers behind the Lambda Invoke API on a local port.</summary>
internal static class ServeLambdaCommand
{
    /// <summary>The port <c>sam local start-lambda</c> uses, so tools configured for it find this server too.</summary>
    public const int DefaultPort = 3001;

    public static Command Create()
    {
        var port = new Option<int>("--port")
        {
            Description = "TCP port to listen on; 0 picks a free port and prints it",
            DefaultValueFactory = _ => DefaultPort,
        };
        var host = new Option<string>("--host")
        {
            Description = "Address to bind. The server has no authentication: keep the loopback default unless the network is yours",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var store = Commands.Common.StoreOption();
        var quiet = new Option<bool>("--quiet") { Description = "Do not log each invocation to standard error" };
        var command = new Command("serve-lambda",
            "Serve the six StepML handlers (stepml-Prepare, stepml-Worker, stepml-Merge, stepml-Decide, stepml-Finalize, stepml-RecordFailure) " +
            "through the Lambda Invoke API, POST /2015-03-31/functions/{FunctionName}/invocations, where FunctionName is a name or a (URL-encoded) ARN. " +
            "A function that throws answers 200 with X-Amz-Function-Error: Unhandled and {\"errorType\", \"errorMessage\"}. " +
            "Point an AWS SDK Lambda client at it (AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:PORT) to run the state machine on another engine, " +
            "e.g. node tests/second-engine/run.mjs. Stops on Ctrl-C or SIGTERM.")
        {
            port, host, store, quiet,
        };
        command.SetAction(async (parse, ct) =>
        {
            var portNumber = parse.GetValue(port);
            if (portNumber is < 0 or > 65535) throw new UsageException($"--port {portNumber}: give 0 (any free port) or 1-65535");
            var address = ParseHost(parse.GetValue(host)!);
            var objectStore = ObjectStores.Open(parse.GetValue(store)!);
            // The settings a deployed function reads from its environment (STEPML_LEDGER, STEPML_REDIS_ENDPOINT, STEPML_CACHE_MB, ...),
            // as `stepml invoke` takes them.
            var functions = new LambdaFunctionTable(new FunctionContext(FunctionSettings.FromEnvironment() with { StoreUri = objectStore.Uri }, objectStore));
            if (!IPAddress.IsLoopback(address))
                Console.Error.WriteLine($"warning: binding {address}: anyone who reaches this port can run the handlers against {objectStore.Uri}");
            await using var server = await LambdaInvokeServer.StartAsync(functions, address, portNumber, parse.GetValue(quiet) ? null : Console.Error, ct).ConfigureAwait(false);
            Console.WriteLine($"listening on {server.BaseAddress.GetLeftPart(UriPartial.Authority)}");
            Console.WriteLine($"  store {objectStore.Uri}; functions {string.Join(", ", functions.Names)}");
            // Stop on Ctrl-C or SIGTERM by draining in-flight invocations instead of letting the runtime end the
            // process mid-response (this action's token is not cancelled by SIGTERM in this invocation setup).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.WriteLine("stopping: finishing in-flight invocations");
            }
            return 0;

            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        });
        return command;
    }

    internal static IPAddress ParseHost(string host)
    {
        if (host == "localhost") return IPAddress.Loopback;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address)
            ? address
            : throw new UsageException($"--host '{host}': give an IP address such as 127.0.0.1, ::1 or 0.0.0.0 (or localhost)");
    }
}
