using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepML.Local.Internal;

// Parses and validates Amazon States Language (JSONPath mode) into the compiled state model.
// Every rejection is an AslValidationException naming the state and the field.
internal static class AslParser
{
    private static readonly string[] s_unsupported =
    [
        "ItemReader", "ResultWriter", "ItemBatcher", "Label", "Credentials",
        "Arguments", "Output", "Assign", "QueryLanguage",
    ];

    private const string LambdaInvoke = "arn:aws:states:::lambda:invoke";
    private const string StartExecution = "arn:aws:states:::states:startExecution";
    private const string StartExecutionSync = StartExecution + ".sync";
    private const string StartExecutionSync2 = StartExecution + ".sync:2";

    public static StateMachineBody ParseMachine(JsonObject root)
    {
        foreach (var (key, value) in root)
        {
            switch (key)
            {
                case "StartAt" or "States" or "Comment" or "Version":
                    continue;
                case "QueryLanguage" when JsonNodes.TryGetString(value, out var lang) && lang == "JSONPath":
                    continue;
                case "QueryLanguage":
                    throw new AslValidationException($"State machine: field 'QueryLanguage' is {JsonPath.Describe(value)}; the local engine supports only \"JSONPath\"");
                case "TimeoutSeconds":
                    throw new AslValidationException("State machine: field 'TimeoutSeconds' (execution timeout) is not supported by the local engine; put TimeoutSeconds on the Task states instead");
                default:
                    throw new AslValidationException($"State machine: unknown top-level field '{key}' (expected StartAt, States, Comment, Version, QueryLanguage)");
            }
        }
        return ParseBody(root, "State machine");
    }

    private static StateMachineBody ParseBody(JsonObject obj, string where)
    {
        if (!JsonNodes.TryGetString(obj["StartAt"], out var startAt))
            throw new AslValidationException($"{where}: field 'StartAt' is missing or not a string");
        if (obj["States"] is not JsonObject statesObj || statesObj.Count == 0)
            throw new AslValidationException($"{where}: field 'States' is missing or empty");
        var states = new Dictionary<string, StateBase>(StringComparer.Ordinal);
        foreach (var (name, def) in statesObj)
        {
            if (def is not JsonObject stateObj) throw new AslValidationException($"State '{name}': the definition must be a JSON object");
            if (name.Length is 0 or > 80) throw new AslValidationException($"State '{name}': a state name must be 1 to 80 characters");
            states[name] = ParseState(name, stateObj);
        }
        if (!states.ContainsKey(startAt))
            throw new AslValidationException($"{where}: field 'StartAt' names '{startAt}', which is not one of its states ({string.Join(", ", states.Keys)})");
        foreach (var state in states.Values) CheckTransitions(state, states);
        CheckReachable(startAt, states, where);
        return new StateMachineBody(startAt, states);
    }

    // AWS rejects definitions with states that no transition reaches; so do we, to catch typos locally.
    private static void CheckReachable(string startAt, Dictionary<string, StateBase> states, string where)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal) { startAt };
        var pending = new Stack<string>();
        pending.Push(startAt);
        while (pending.TryPop(out var name))
        {
            var state = states[name];
            IEnumerable<string?> targets = state switch
            {
                ChoiceState c => c.Choices.Select(b => b.Next).Append(c.Default),
                ResultState r => r.Catch.Select(c => c.Next).Append(r.Next),
                _ => [state.Next],
            };
            foreach (var t in targets)
                if (t is not null && reached.Add(t)) pending.Push(t);
        }
        foreach (var name in states.Keys)
            if (!reached.Contains(name))
                throw new AslValidationException($"State '{name}' is not reachable from {where}'s StartAt '{startAt}': no Next, Default or Catch leads to it");
    }

    private static void CheckTransitions(StateBase state, Dictionary<string, StateBase> states)
    {
        void Target(string field, string? target)
        {
            if (target is not null && !states.ContainsKey(target))
                throw new AslValidationException($"State '{state.Name}': field '{field}' points to '{target}', which is not a state in the same scope ({string.Join(", ", states.Keys)})");
        }
        Target("Next", state.Next);
        switch (state)
        {
            case ChoiceState choice:
                for (int i = 0; i < choice.Choices.Length; i++) Target($"Choices[{i}].Next", choice.Choices[i].Next);
                Target("Default", choice.Default);
                break;
            case ResultState rs:
                for (int i = 0; i < rs.Catch.Length; i++) Target($"Catch[{i}].Next", rs.Catch[i].Next);
                break;
        }
    }

    private static StateBase ParseState(string name, JsonObject obj)
    {
        var r = new FieldReader(name, obj);
        var type = r.RequiredString("Type");
        r.Optional("Comment");
        StateBase state = type switch
        {
            "Pass" => ParsePass(r),
            "Task" => ParseTask(r),
            "Map" => ParseMap(r),
            "Parallel" => ParseParallel(r),
            "Choice" => ParseChoice(r),
            "Wait" => ParseWait(r),
            "Succeed" => new SucceedState { Name = name, Type = type, InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath") },
            "Fail" => ParseFail(r),
            _ => throw new AslValidationException($"State '{name}': field 'Type' is '{type}', which is not a state type (Pass, Task, Map, Parallel, Choice, Wait, Succeed, Fail)"),
        };
        r.RejectRemaining(type, s_unsupported);
        return state;
    }

    private static (string? Next, bool End) Transition(FieldReader r)
    {
        var next = r.OptString("Next");
        bool end = r.OptBool("End") ?? false;
        if (next is null && !end) throw r.Error("Next", "a state must have either 'Next' or \"End\": true");
        if (next is not null && end) throw r.Error("End", "a state cannot have both 'Next' and \"End\": true");
        return (next, end);
    }

    private static PassState ParsePass(FieldReader r)
    {
        var (next, end) = Transition(r);
        bool hasResult = r.Has("Result");
        return new PassState
        {
            Name = r.State, Type = "Pass", Next = next, End = end,
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"), ResultPath = r.OptReferencePath("ResultPath"),
            Parameters = r.Template("Parameters"),
            HasResult = hasResult, Result = hasResult ? r.Optional("Result")?.DeepClone() : null,
        };
    }

    private static TaskState ParseTask(FieldReader r)
    {
        var resource = r.RequiredString("Resource");
        var (next, end) = Transition(r);
        TaskKind kind;
        string? function = null;
        var parametersNode = r.Peek("Parameters") as JsonObject;
        if (resource == LambdaInvoke)
        {
            kind = TaskKind.LambdaInvoke;
            if (parametersNode is null || !(parametersNode.ContainsKey("FunctionName") || parametersNode.ContainsKey("FunctionName.$")))
                throw r.Error("Parameters", $"'{LambdaInvoke}' needs Parameters with 'FunctionName' (and usually 'Payload' or 'Payload.$')");
        }
        else if (resource is StartExecution or StartExecutionSync or StartExecutionSync2)
        {
            kind = resource switch { StartExecutionSync => TaskKind.StartExecutionSync, StartExecutionSync2 => TaskKind.StartExecutionSync2, _ => TaskKind.StartExecution };
            if (parametersNode is null || !(parametersNode.ContainsKey("StateMachineArn") || parametersNode.ContainsKey("StateMachineArn.$")))
                throw r.Error("Parameters", $"'{resource}' needs Parameters with 'StateMachineArn'");
        }
        else if (TryParseLambdaArn(resource, out var fn))
        {
            kind = TaskKind.LambdaFunction;
            function = fn;
        }
        else
        {
            throw r.Error("Resource", $"'{resource}' is not supported locally; use arn:aws:lambda:<region>:<account>:function:<name>, " +
                                      $"{LambdaInvoke}, {StartExecution}, {StartExecutionSync} or {StartExecutionSync2} (no other .sync or .waitForTaskToken)");
        }
        int? timeout = r.OptInt("TimeoutSeconds", min: 1);
        var timeoutPath = r.OptPlainPath("TimeoutSecondsPath");
        if (timeout is not null && timeoutPath is not null) throw r.Error("TimeoutSecondsPath", "use either TimeoutSeconds or TimeoutSecondsPath, not both");
        int? heartbeat = r.OptInt("HeartbeatSeconds", min: 1);
        var heartbeatPath = r.OptPlainPath("HeartbeatSecondsPath");
        if (heartbeat is not null && heartbeatPath is not null) throw r.Error("HeartbeatSecondsPath", "use either HeartbeatSeconds or HeartbeatSecondsPath, not both");
        if (heartbeat is { } hb && timeout is { } to && hb >= to) throw r.Error("HeartbeatSeconds", $"{hb} must be smaller than TimeoutSeconds {to}");
        return new TaskState
        {
            Name = r.State, Type = "Task", Next = next, End = end, Resource = resource, Kind = kind, FunctionName = function,
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"), ResultPath = r.OptReferencePath("ResultPath"),
            Parameters = r.Template("Parameters"), ResultSelector = r.Template("ResultSelector"),
            Retry = ParseRetry(r), Catch = ParseCatch(r), TimeoutSeconds = timeout, TimeoutSecondsPath = timeoutPath,
            HeartbeatSeconds = heartbeat, HeartbeatSecondsPath = heartbeatPath,
        };
    }

    // arn:aws:lambda:region:account:function:name[:alias-or-version] (CDK substitutions give this form).
    internal static bool TryParseLambdaArn(string arn, out string function)
    {
        function = "";
        var parts = arn.Split(':');
        if (parts.Length is < 7 or > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" || parts[6].Length == 0) return false;
        function = parts[6];
        return true;
    }

    private static MapState ParseMap(FieldReader r)
    {
        var (next, end) = Transition(r);
        bool hasProcessor = r.Has("ItemProcessor"), hasIterator = r.Has("Iterator");
        if (hasProcessor == hasIterator)
            throw r.Error(hasProcessor ? "Iterator" : "ItemProcessor", "a Map state needs exactly one of 'ItemProcessor' or the legacy 'Iterator'");
        var processorField = hasProcessor ? "ItemProcessor" : "Iterator";
        if (r.Optional(processorField) is not JsonObject processorObj) throw r.Error(processorField, "must be an object");
        bool distributed = false, express = false;
        var inner = new JsonObject();
        foreach (var (key, value) in processorObj)
        {
            if (key == "ProcessorConfig" && hasProcessor)
            {
                if (value is not JsonObject config) throw r.Error("ItemProcessor.ProcessorConfig", "must be an object");
                foreach (var (ck, cv) in config)
                {
                    if (ck == "Mode")
                    {
                        var mode = JsonNodes.TryGetString(cv, out var m) ? m : "";
                        if (mode is not ("INLINE" or "DISTRIBUTED")) throw r.Error("ItemProcessor.ProcessorConfig.Mode", $"'{mode}' must be INLINE or DISTRIBUTED");
                        distributed = mode == "DISTRIBUTED";
                    }
                    else if (ck == "ExecutionType")
                    {
                        if (!JsonNodes.TryGetString(cv, out var et) || et is not ("EXPRESS" or "STANDARD"))
                            throw r.Error("ItemProcessor.ProcessorConfig.ExecutionType", $"{JsonPath.Describe(cv)} must be EXPRESS or STANDARD");
                        express = et == "EXPRESS";
                    }
                    else throw r.Error($"ItemProcessor.ProcessorConfig.{ck}", "is not a ProcessorConfig field (Mode, ExecutionType)");
                }
                continue;
            }
            if (key is "StartAt" or "States" or "Comment") inner[key] = value?.DeepClone();
            else throw r.Error($"{processorField}.{key}", "is not supported (expected StartAt, States, ProcessorConfig)");
        }
        if (r.Has("ItemSelector") && r.Has("Parameters")) throw r.Error("Parameters", "use ItemSelector or the legacy Parameters, not both");
        var selector = r.Template("ItemSelector") ?? r.Template("Parameters");
        int maxConcurrency = r.OptInt("MaxConcurrency", min: 0) ?? 0;
        var maxConcurrencyPath = r.OptPlainPath("MaxConcurrencyPath");
        if (r.Has("MaxConcurrency") && maxConcurrencyPath is not null) throw r.Error("MaxConcurrencyPath", "use either MaxConcurrency or MaxConcurrencyPath, not both");
        double? pct = r.OptNumber("ToleratedFailurePercentage", 0, 100);
        var pctPath = r.OptPlainPath("ToleratedFailurePercentagePath");
        long? count = r.OptInt("ToleratedFailureCount", min: 0);
        var countPath = r.OptPlainPath("ToleratedFailureCountPath");
        if (!distributed)
        {
            foreach (var f in new[] { "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath" })
                if (r.WasRead(f)) throw r.Error(f, "is only allowed with ItemProcessor.ProcessorConfig.Mode DISTRIBUTED");
        }
        if (pct is not null && pctPath is not null) throw r.Error("ToleratedFailurePercentagePath", "use either ToleratedFailurePercentage or its Path, not both");
        if (count is not null && countPath is not null) throw r.Error("ToleratedFailureCountPath", "use either ToleratedFailureCount or its Path, not both");
        StateMachineBody processor;
        try { processor = ParseBody(inner, $"State '{r.State}' {processorField}"); }
        catch (AslValidationException e) { throw new AslValidationException($"{e.Message} (inside Map state '{r.State}')"); }
        return new MapState
        {
            Name = r.State, Type = "Map", Next = next, End = end, Processor = processor, Distributed = distributed, ExpressChildren = distributed && express,
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"), ResultPath = r.OptReferencePath("ResultPath"),
            ItemsPath = r.OptPlainPath("ItemsPath", reference: true), ItemSelector = selector, ResultSelector = r.Template("ResultSelector"),
            MaxConcurrency = maxConcurrency, MaxConcurrencyPath = maxConcurrencyPath,
            ToleratedFailurePercentage = pct, ToleratedFailurePercentagePath = pctPath,
            ToleratedFailureCount = count, ToleratedFailureCountPath = countPath,
            Retry = ParseRetry(r), Catch = ParseCatch(r),
        };
    }

    private static ParallelState ParseParallel(FieldReader r)
    {
        var (next, end) = Transition(r);
        if (r.Optional("Branches") is not JsonArray branches || branches.Count == 0) throw r.Error("Branches", "must be a non-empty array of {StartAt, States}");
        var bodies = new StateMachineBody[branches.Count];
        for (int i = 0; i < branches.Count; i++)
        {
            if (branches[i] is not JsonObject b) throw r.Error($"Branches[{i}]", "must be an object");
            foreach (var (key, _) in b)
                if (key is not ("StartAt" or "States" or "Comment")) throw r.Error($"Branches[{i}].{key}", "is not a branch field (StartAt, States, Comment)");
            try { bodies[i] = ParseBody(b, $"State '{r.State}' Branches[{i}]"); }
            catch (AslValidationException e) { throw new AslValidationException($"{e.Message} (inside Parallel state '{r.State}')"); }
        }
        return new ParallelState
        {
            Name = r.State, Type = "Parallel", Next = next, End = end, Branches = bodies,
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"), ResultPath = r.OptReferencePath("ResultPath"),
            Parameters = r.Template("Parameters"), ResultSelector = r.Template("ResultSelector"),
            Retry = ParseRetry(r), Catch = ParseCatch(r),
        };
    }

    private static ChoiceState ParseChoice(FieldReader r)
    {
        if (r.Has("Next") || r.Has("End")) throw r.Error(r.Has("Next") ? "Next" : "End", "a Choice state transitions through Choices[].Next and Default only");
        if (r.Optional("Choices") is not JsonArray list || list.Count == 0) throw r.Error("Choices", "must be a non-empty array of rules");
        var choices = new ChoiceBranch[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject rule) throw r.Error($"Choices[{i}]", "must be an object");
            if (!JsonNodes.TryGetString(rule["Next"], out var next)) throw r.Error($"Choices[{i}].Next", "is missing or not a string");
            try { choices[i] = new ChoiceBranch(ChoiceCondition.Compile(rule, $"Choices[{i}]", topLevel: true), next); }
            catch (FormatException e) { throw new AslValidationException($"State '{r.State}': {e.Message}"); }
        }
        return new ChoiceState
        {
            Name = r.State, Type = "Choice", Choices = choices, Default = r.OptString("Default"),
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"),
        };
    }

    private static WaitState ParseWait(FieldReader r)
    {
        var (next, end) = Transition(r);
        double? seconds = r.OptInt("Seconds", min: 0);
        var secondsPath = r.OptPlainPath("SecondsPath");
        DateTimeOffset? timestamp = null;
        if (r.OptString("Timestamp") is { } ts)
            timestamp = JsonNodes.TryParseTimestamp(ts, out var t) ? t : throw r.Error("Timestamp", $"'{ts}' is not an RFC 3339 timestamp such as 2024-01-01T00:00:00Z");
        var timestampPath = r.OptPlainPath("TimestampPath");
        int set = (seconds is null ? 0 : 1) + (secondsPath is null ? 0 : 1) + (timestamp is null ? 0 : 1) + (timestampPath is null ? 0 : 1);
        if (set != 1) throw r.Error("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath");
        return new WaitState
        {
            Name = r.State, Type = "Wait", Next = next, End = end, Seconds = seconds, SecondsPath = secondsPath,
            Timestamp = timestamp, TimestampPath = timestampPath,
            InputPath = r.OptPath("InputPath"), OutputPath = r.OptPath("OutputPath"),
        };
    }

    private static FailState ParseFail(FieldReader r)
    {
        var error = r.OptString("Error");
        var cause = r.OptString("Cause");
        var errorPath = r.OptExpression("ErrorPath");
        var causePath = r.OptExpression("CausePath");
        if (error is not null && errorPath is not null) throw r.Error("ErrorPath", "use either Error or ErrorPath, not both");
        if (cause is not null && causePath is not null) throw r.Error("CausePath", "use either Cause or CausePath, not both");
        return new FailState { Name = r.State, Type = "Fail", Error = error, Cause = cause, ErrorPath = errorPath, CausePath = causePath };
    }

    private static Retrier[] ParseRetry(FieldReader r)
    {
        if (r.Optional("Retry") is not { } node) return [];
        if (node is not JsonArray list) throw r.Error("Retry", "must be an array of retriers");
        var result = new Retrier[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            var field = $"Retry[{i}]";
            if (list[i] is not JsonObject obj) throw r.Error(field, "must be an object");
            var sub = new FieldReader(r.State, obj, field);
            var errors = ErrorEquals(sub, r, field, i == list.Count - 1);
            double interval = sub.OptInt("IntervalSeconds", min: 1) ?? 1;
            int maxAttempts = sub.OptInt("MaxAttempts", min: 0) ?? 3;
            double backoff = sub.OptNumber("BackoffRate", 1.0, double.MaxValue) ?? 2.0;
            double? maxDelay = sub.OptInt("MaxDelaySeconds", min: 1);
            var jitter = sub.OptString("JitterStrategy") ?? "NONE";
            if (jitter is not ("NONE" or "FULL")) throw sub.Error("JitterStrategy", $"'{jitter}' must be NONE or FULL");
            sub.Optional("Comment");
            sub.RejectRemaining("retrier", []);
            result[i] = new Retrier(errors, interval, maxAttempts, backoff, maxDelay, jitter == "FULL");
        }
        return result;
    }

    private static Catcher[] ParseCatch(FieldReader r)
    {
        if (r.Optional("Catch") is not { } node) return [];
        if (node is not JsonArray list) throw r.Error("Catch", "must be an array of catchers");
        var result = new Catcher[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            var field = $"Catch[{i}]";
            if (list[i] is not JsonObject obj) throw r.Error(field, "must be an object");
            var sub = new FieldReader(r.State, obj, field);
            var errors = ErrorEquals(sub, r, field, i == list.Count - 1);
            var next = sub.OptString("Next") ?? throw sub.Error("Next", "a catcher needs 'Next'");
            var resultPath = sub.OptReferencePath("ResultPath");
            sub.Optional("Comment");
            sub.RejectRemaining("catcher", []);
            result[i] = new Catcher(errors, next, resultPath);
        }
        return result;
    }

    private static string[] ErrorEquals(FieldReader sub, FieldReader state, string field, bool isLast)
    {
        if (sub.Optional("ErrorEquals") is not JsonArray arr || arr.Count == 0)
            throw state.Error($"{field}.ErrorEquals", "must be a non-empty array of error names");
        var names = new string[arr.Count];
        for (int j = 0; j < arr.Count; j++)
            names[j] = JsonNodes.TryGetString(arr[j], out var s) ? s : throw state.Error($"{field}.ErrorEquals[{j}]", "must be a string");
        if (Array.IndexOf(names, ErrorNames.All) >= 0 && (names.Length != 1 || !isLast))
            throw state.Error($"{field}.ErrorEquals", "\"States.ALL\" must appear alone, in the last retrier or catcher");
        return names;
    }

    // Reads a state's fields, remembering which were consumed so that leftovers are reported.
    private sealed class FieldReader(string state, JsonObject obj, string? prefix = null)
    {
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public string State { get; } = state;

        public AslValidationException Error(string field, string message)
            => new($"State '{State}': field '{(prefix is null || field.StartsWith(prefix, StringComparison.Ordinal) ? field : prefix + "." + field)}' {message}");

        public bool Has(string field) => obj.ContainsKey(field);

        public bool WasRead(string field) => _read.Contains(field) && obj.ContainsKey(field);

        public JsonNode? Peek(string field) => obj[field];

        public JsonNode? Optional(string field)
        {
            _read.Add(field);
            return obj[field];
        }

        public string RequiredString(string field)
            => JsonNodes.TryGetString(Optional(field), out var s) ? s : throw Error(field, "is missing or not a string");

        public string? OptString(string field)
        {
            var node = Optional(field);
            if (node is null) return null;
            return JsonNodes.TryGetString(node, out var s) ? s : throw Error(field, $"must be a string, got {JsonPath.Describe(node)}");
        }

        public bool? OptBool(string field)
        {
            var node = Optional(field);
            if (node is null) return null;
            return JsonNodes.TryGetBoolean(node, out var b) ? b : throw Error(field, "must be true or false");
        }

        public int? OptInt(string field, int min)
        {
            var node = Optional(field);
            if (node is null) return null;
            if (!JsonNodes.TryGetNumber(node, out var d) || d != Math.Floor(d) || d < min || d > int.MaxValue)
                throw Error(field, $"must be an integer >= {min}, got {JsonPath.Describe(node)}");
            return (int)d;
        }

        public double? OptNumber(string field, double min, double max)
        {
            var node = Optional(field);
            if (node is null) return null;
            if (!JsonNodes.TryGetNumber(node, out var d) || d < min || d > max)
                throw Error(field, $"must be a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got {JsonPath.Describe(node)}");
            return d;
        }

        public OptionalPath OptPath(string field) => ReadPath(field, allowWildcard: true);

        public OptionalPath OptReferencePath(string field) => ReadPath(field, allowWildcard: false);

        private OptionalPath ReadPath(string field, bool allowWildcard)
        {
            if (!obj.TryGetPropertyValue(field, out var node)) { _read.Add(field); return OptionalPath.Root; }
            _read.Add(field);
            if (node is null) return new OptionalPath(true, null);
            var path = ParsePath(field, node);
            if (path.IsContext) throw Error(field, "cannot refer to the context object ($$)");
            if (!allowWildcard && path.HasWildcard) throw Error(field, $"'{path.Text}' must be a reference path (no [*])");
            return new OptionalPath(false, path);
        }

        public JsonPath? OptPlainPath(string field, bool reference = false)
        {
            var node = Optional(field);
            if (node is null) return null;
            var path = ParsePath(field, node);
            if (reference && path.HasWildcard) throw Error(field, $"'{path.Text}' must be a reference path (no [*])");
            return path;
        }

        private JsonPath ParsePath(string field, JsonNode node)
        {
            if (!JsonNodes.TryGetString(node, out var text)) throw Error(field, $"must be a JSONPath string, got {JsonPath.Describe(node)}");
            try { return JsonPath.Parse(text); }
            catch (FormatException e) { throw Error(field, e.Message); }
        }

        public ExpressionTemplate? OptExpression(string field)
        {
            var text = OptString(field);
            if (text is null) return null;
            try { return ExpressionTemplate.Compile(text, field); }
            catch (FormatException e) { throw new AslValidationException($"State '{State}': field {e.Message}"); }
        }

        public PayloadTemplate? Template(string field)
        {
            if (!obj.TryGetPropertyValue(field, out var node)) { _read.Add(field); return null; }
            _read.Add(field);
            try { return PayloadTemplate.Compile(node, field); }
            catch (FormatException e) { throw new AslValidationException($"State '{State}': field {e.Message}"); }
        }

        public void RejectRemaining(string kind, string[] unsupported)
        {
            foreach (var (key, _) in obj)
            {
                if (_read.Contains(key)) continue;
                if (Array.IndexOf(unsupported, key) >= 0)
                    throw Error(key, $"is not supported by the local engine (StepML runs {kind} states without it); remove it or run in AWS");
                throw Error(key, $"is not a field of a {kind} {(prefix is null ? "state" : "")}".TrimEnd());
            }
        }
    }

    internal static JsonObject ParseRoot(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                   ?? throw new AslValidationException("State machine: the definition must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new AslValidationException($"State machine: the definition is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
    }
}
