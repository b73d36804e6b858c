namespace StepML.Storage.Ledger;

/// <summary>
/// Who owns each run, and which trigger events were already used (DESIGN.md, "Runs and data": one owner per run,
/// idempotent triggers). Every write is conditional, so two executions racing for one run cannot both win:
/// <see cref="FolderRunLedger"/> creates files that must not exist yet, <see cref="DynamoDbRunLedger"/> uses
/// conditional puts. Policy (hand-over, take-over, finish) lives in <see cref="RunOwnership"/> on top of these
/// three primitives.
/// </summary>
public interface IRunLedger
{
    /// <summary>Where the ledger lives (a folder, or <c>dynamodb://TABLE</c>).</summary>
    string Uri { get; }

    /// <summary>Creates the run's record, owned by <paramref name="owner"/>, version 1, status running. Claiming
    /// again with the same owner (a retried step) returns the existing record; any other owner gets
    /// <see cref="RunOwnedException"/> naming the current one.</summary>
    Task<RunOwner> ClaimAsync(string runId, string owner, string? process, CancellationToken cancellationToken = default);

    /// <summary>The run's record, or null when no execution ever claimed it.</summary>
    Task<RunOwner?> ReadAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Compare-and-swap: replaces the record whose version is <c>expected.Version</c> by one with the next
    /// version. When the record changed meanwhile, throws <see cref="RunOwnedException"/> naming the new owner.</summary>
    Task<RunOwner> ReplaceAsync(RunOwner expected, string owner, string status, string? process, CancellationToken cancellationToken = default);

    /// <summary>Claims <paramref name="key"/> (an event's identity) once. Returns null when this owner holds it (now,
    /// or already from an earlier attempt), else the owner that claimed it first.</summary>
    Task<string?> ClaimOnceAsync(string key, string owner, CancellationToken cancellationToken = default);
}

/// <summary>One run's ownership record.</summary>
/// <param name="Owner">The owning execution (its ARN in Step Functions and in the local engine).</param>
/// <param name="Status"><see cref="RunStatus"/>.</param>
/// <param name="Version">Starts at 1; every replacement adds one (the compare-and-swap token).</param>
/// <param name="Process">For local runs, <c>host:pid:startTicks</c> of the process, so a resume can tell a dead
/// owner from a live one; null in the cloud.</param>
public sealed record RunOwner(string RunId, string Owner, string Status, long Version, DateTimeOffset Since, string? Process = null)
{
    public override string ToString() =>
        $"{Owner}{(Process is null ? "" : $" (process {LocalProcess.Describe(Process)})")}, {Status} since {Since:yyyy-MM-dd HH:mm:ss}Z";
}

public static class RunStatus
{
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Failed = "failed";
}

/// <summary>The run belongs to another execution; nothing was written. The type name is an ASL error name.</summary>
public sealed class RunOwnedException(string runId, RunOwner? current, string message, Exception? inner = null) : Exception(message, inner)
{
    public RunOwnedException(string runId, RunOwner current, Exception? inner = null)
        : this(runId, current, Explain(runId, current), inner) { }

    public string RunId { get; } = runId;
    public RunOwner? Current { get; } = current;

    private static string Explain(string runId, RunOwner current) => current.Status == RunStatus.Running
        ? $"run '{runId}' is owned by {current}: it is still running (if that process or execution is dead, take the run over with `stepml resume {runId} --force`)"
        : $"run '{runId}' is owned by {current}: continue it with `stepml resume {runId}` (add --max-rounds N to train further), or choose another runId";
}
