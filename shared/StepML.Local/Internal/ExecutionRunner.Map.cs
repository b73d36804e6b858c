using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Map scheduling: items run on a bounded set of loops sharing the engine's concurrency slots; DISTRIBUTED Maps
// tolerate failures and run EXPRESS children under their 5-minute limit.
internal sealed partial class ExecutionRunner
{
    // ---- Map ---------------------------------------------------------------------------------------------

    private sealed class MapRun
    {
        public int Next = -1;
        public int Failures;
        public volatile bool Stop;
        public StatesError? Error;
        public long LastEventId;
    }

    private async Task<JsonNode?> RunMapAsync(MapState m, JsonNode? effective, StateScope scope, Chain chain, Frame frame)
    {
        JsonNode? itemsNode = effective;
        if (m.ItemsPath is { } ip)
        {
            bool found = ip.IsContext ? scope.TryResolve(ip, out itemsNode) : ip.TryEvaluate(effective, out itemsNode);
            if (!found) throw StatesError.Runtime($"State '{m.Name}': ItemsPath '{ip.Text}' matched nothing in the input {JsonPath.Describe(effective)}");
        }
        if (itemsNode is not JsonArray items)
            throw StatesError.Runtime($"State '{m.Name}': ItemsPath '{m.ItemsPath?.Text ?? "$"}' selected a {JsonNodes.Kind(itemsNode)}, but a Map needs an array");
        int n = items.Count;
        int limit = m.MaxConcurrencyPath is { } mp ? ReadInteger(m, "MaxConcurrencyPath", mp, effective, scope, min: 0) : m.MaxConcurrency;
        if (limit == 0 || limit > n) limit = n;
        double? tolPct = m.ToleratedFailurePercentagePath is { } pp ? ReadNumber(m, "ToleratedFailurePercentagePath", pp, effective, scope, 0, 100) : m.ToleratedFailurePercentage;
        long? tolCount = m.ToleratedFailureCountPath is { } cp ? ReadInteger(m, "ToleratedFailureCountPath", cp, effective, scope, min: 0) : m.ToleratedFailureCount;

        // Item inputs are built here, on one thread: JsonNode reads are not thread-safe until materialised.
        var inputs = new JsonNode?[n];
        for (int i = 0; i < n; i++)
        {
            if (m.ItemSelector is null) { inputs[i] = items[i]?.DeepClone(); continue; }
            var itemScope = new StateScope { Execution = _info, StateName = m.Name, Entered = scope.Entered, MapIndex = i, MapValue = items[i] };
            inputs[i] = m.ItemSelector.Build(effective, itemScope);
        }
        for (int i = 0; i < n; i++)
            CheckPayloadSize(JsonNodes.ToJson(inputs[i]), $"The input of item {i} of Map state '{m.Name}' has a size exceeding the maximum number of bytes service limit");

        _history.Append(chain, "MapStateStarted", new JsonObject { ["length"] = n });
        string? mapRunArn = null;
        if (m.Distributed)
        {
            mapRunArn = $"arn:aws:states:local:000000000000:mapRun:{_machine.Name}/{m.Name}:{Guid.NewGuid():N}";
            _history.Append(chain, "MapRunStarted", new JsonObject { ["mapRunArn"] = mapRunArn });
        }
        long startId = chain.Last;
        var run = new MapRun { LastEventId = startId };
        var results = new JsonNode?[n];
        bool needSlot = !frame.HoldsSlot;
        var childFrame = new Frame(frame.Depth + 1, HoldsSlot: true, frame.Cancel, OwnsSlot: needSlot);

        async Task WorkerAsync()
        {
            while (!run.Stop)
            {
                int i = Interlocked.Increment(ref run.Next);
                if (i >= n) return;
                if (needSlot) await _engine.Slots.WaitAsync(_abort.Token).ConfigureAwait(false);
                try
                {
                    if (run.Stop) return;
                    var iteration = new Chain(startId, m.Distributed || chain.InChildExecution);
                    var details = new JsonObject { ["name"] = m.Name, ["index"] = i };
                    _history.Append(iteration, "MapIterationStarted", details);
                    try
                    {
                        var output = m.ExpressChildren
                            ? await RunExpressChildAsync(m, i, inputs[i], iteration, childFrame).ConfigureAwait(false)
                            : await RunBodyAsync(m.Processor, inputs[i], iteration, childFrame).ConfigureAwait(false);
                        inputs[i] = null;
                        results[i] = output?.Parent is null ? output : output.DeepClone();
                        _history.Append(iteration, "MapIterationSucceeded", new JsonObject { ["name"] = m.Name, ["index"] = i });
                    }
                    catch (StatesError e)
                    {
                        _history.Append(iteration, "MapIterationFailed", new JsonObject { ["name"] = m.Name, ["index"] = i });
                        if (!m.Distributed)
                        {
                            Interlocked.CompareExchange(ref run.Error, e, null);
                            run.Stop = true;
                        }
                        else
                        {
                            results[i] = e.ToErrorOutput();
                            int failures = Interlocked.Increment(ref run.Failures);
                            bool exceeded = tolPct is null && tolCount is null
                                ? failures > 0
                                : (tolCount is { } c && failures > c) || (tolPct is { } pct && failures * 100.0 / n > pct);
                            if (exceeded)
                            {
                                Interlocked.CompareExchange(ref run.Error, new StatesError(ErrorNames.ExceedToleratedFailureThreshold,
                                    $"The specified tolerated failure threshold was exceeded: {failures} of {n} items failed " +
                                    $"(ToleratedFailureCount {tolCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset"}, " +
                                    $"ToleratedFailurePercentage {tolPct?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset"}); " +
                                    $"item {i} failed with {e.Error}: {e.Cause}"), null);
                                run.Stop = true;
                            }
                        }
                    }
                    long last = iteration.Last, seen;
                    while ((seen = Interlocked.Read(ref run.LastEventId)) < last && Interlocked.CompareExchange(ref run.LastEventId, last, seen) != seen) { }
                }
                finally
                {
                    if (needSlot) _engine.Slots.Release();
                }
            }
        }

        int workers = Math.Min(limit, needSlot ? Math.Min(n, _engine.Options.MaxConcurrency) : n);
        if (workers > 0)
        {
            var tasks = new Task[workers];
            for (int w = 0; w < workers; w++) tasks[w] = Task.Run(WorkerAsync);
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        chain.Last = run.LastEventId;
        if (run.Error is { } error)
        {
            if (mapRunArn is not null) _history.Append(chain, "MapRunFailed", ErrorDetails(error));
            _history.Append(chain, "MapStateFailed");
            throw error;
        }
        if (mapRunArn is not null) _history.Append(chain, "MapRunSucceeded");
        _history.Append(chain, "MapStateSucceeded");
        return new JsonArray(results);
    }

    // An EXPRESS child execution of a Distributed Map: AWS stops it after 5 minutes (retries included), whatever its
    // states' own timeouts say; the Map sees the item fail with States.Timeout. The function call in flight is
    // abandoned, as a Lambda invocation outlives the execution that started it.
    private async Task<JsonNode?> RunExpressChildAsync(MapState m, int index, JsonNode? input, Chain iteration, Frame frame)
    {
        var limit = TimeSpan.FromSeconds(AwsQuotas.ExpressExecutionSeconds * _limitScale);
        using var expiry = new CancellationTokenSource(limit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(frame.Cancel, expiry.Token);
        try
        {
            return await RunBodyAsync(m.Processor, input, iteration, frame with { Cancel = linked.Token }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or StatesError && expiry.IsCancellationRequested && !frame.Cancel.IsCancellationRequested)
        {
            throw new StatesError(ErrorNames.Timeout,
                $"Map state '{m.Name}' item {index}: the EXPRESS child execution ran longer than {AwsQuotas.ExpressExecutionSeconds} seconds " +
                $"(scaled by {_limitScale.ToString(System.Globalization.CultureInfo.InvariantCulture)} to {limit.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s), the limit at which AWS stops it");
        }
    }
}
