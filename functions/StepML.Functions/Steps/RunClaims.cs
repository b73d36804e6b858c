using System.Text.Json.Nodes;
using StepML.Storage;
using StepML.Storage.Ledger;

namespace StepML.Functions;

/// <summary>
/// Prepare's side of the run ledger: which execution is asking (the ASL passes <c>$$.Execution.Id</c> beside the
/// input), the claim of a new run, and the claim-once of an S3 event so a redelivered event starts no run.
/// </summary>
internal static class RunClaims
{
    /// <summary>The ASL calls Prepare and RecordFailure with <c>{"input": $, "executionId": $$.Execution.Id}</c>;
    /// a direct call (tests, serve-lambda clients) passes the input alone and gets a fresh owner id.</summary>
    public static (JsonNode? Input, string Owner) Unwrap(JsonNode? node)
    {
        if (node is JsonObject { Count: 2 } obj && obj.ContainsKey("input")
            && obj["executionId"] is JsonValue v && v.TryGetValue<string>(out var id) && id.Length > 0)
            return (obj["input"], id);
        return (node, "execution-" + Guid.NewGuid().ToString("N"));
    }

    /// <summary>Claims a new run before anything of it is written. A run that was claimed but never prepared (no
    /// job.json) by an execution that failed or whose process died holds nothing worth protecting: it is taken over.</summary>
    public static async Task ClaimNewRunAsync(FunctionContext context, string runId, string owner)
    {
        var ledger = context.Ledger;
        try
        {
            await ledger.ClaimAsync(runId, owner, context.Settings.Process).ConfigureAwait(false);
            return;
        }
        catch (RunOwnedException e) when (e.Current is { } current
                                          && (current.Status != RunStatus.Running || current.Process is { } p && !LocalProcess.IsAlive(p)))
        {
            if (await context.Store.ExistsAsync(RunLayout.Job(runId)).ConfigureAwait(false)) throw;
            await ledger.ReplaceAsync(current, owner, RunStatus.Running, context.Settings.Process).ConfigureAwait(false);
        }
    }

    /// <summary>The identity of one intended upload: S3's sequencer orders the writes of one key, so bucket, key and
    /// sequencer name exactly one PUT; without a sequencer, the ETag and the event id.</summary>
    public static string EventIdentity(JsonObject evt, JsonObject detail, string key)
    {
        static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        var bucket = Text((detail["bucket"] as JsonObject)?["name"]) ?? "";
        var obj = detail["object"] as JsonObject;
        var version = Text(obj?["sequencer"]) is { } sequencer
            ? "seq:" + sequencer
            : $"etag:{Text(obj?["etag"]) ?? ""}#id:{Text(evt["id"]) ?? ""}";
        return $"s3-event:{bucket}/{key}@{version}";
    }

    /// <summary>Null when this execution may act on the event; else why it must not (another execution did).</summary>
    public static async Task<string?> ClaimEventAsync(FunctionContext context, string identity, string key, string owner)
    {
        var first = await context.Ledger.ClaimOnceAsync(identity, owner).ConfigureAwait(false);
        return first is null ? null : $"the upload of '{key}' was already handled by execution {first}; a redelivered event starts no run";
    }
}
