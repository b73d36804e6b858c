namespace StepML.Storage.Ledger;

/// <summary>
/// The ownership rules on top of <see cref="IRunLedger"/>'s primitives: continue-as-new hands the run on, a resume
/// takes it over from a finished, failed or dead owner, and the last step marks it finished or failed. Every change
/// is a compare-and-swap, so of two racing executions exactly one wins.
/// </summary>
public static class RunOwnership
{
    /// <summary>Continue-as-new: the run passes from <paramref name="from"/> to <paramref name="to"/>. A retry of
    /// the new execution's first step finds itself already the owner.</summary>
    public static async Task<RunOwner> HandOverAsync(this IRunLedger ledger, string runId, string from, string to, string? process, CancellationToken ct = default)
    {
        var current = await ledger.ReadAsync(runId, ct).ConfigureAwait(false)
            ?? throw new RunOwnedException(runId, null, $"run '{runId}' has no owner record in {ledger.Uri}: it cannot continue as new (was the ledger reset?); resume it with `stepml resume {runId}`");
        if (current.Owner == to) return current;
        if (current.Owner != from || current.Status != RunStatus.Running) throw new RunOwnedException(runId, current);
        return await ledger.ReplaceAsync(current, to, RunStatus.Running, process, ct).ConfigureAwait(false);
    }

    /// <summary>A resume: takes the run over when its owner finished, failed or is a dead local process, or when
    /// <paramref name="force"/> says the caller knows it is dead (an aborted cloud execution).</summary>
    public static async Task<RunOwner> TakeOverAsync(this IRunLedger ledger, string runId, string owner, string? process, bool force,
        Func<string, bool>? isAlive = null, CancellationToken ct = default)
    {
        isAlive ??= LocalProcess.IsAlive;
        var current = await ledger.ReadAsync(runId, ct).ConfigureAwait(false);
        if (current is null) return await ledger.ClaimAsync(runId, owner, process, ct).ConfigureAwait(false);
        if (current.Owner == owner) return current;
        var dead = current.Status != RunStatus.Running || force || (current.Process is { } p && !isAlive(p));
        if (!dead) throw new RunOwnedException(runId, current);
        return await ledger.ReplaceAsync(current, owner, RunStatus.Running, process, ct).ConfigureAwait(false);
    }

    /// <summary>Fails with <see cref="RunOwnedException"/> unless <paramref name="owner"/> still owns the run (a step
    /// of an execution that was taken over must not write).</summary>
    public static async Task<RunOwner> EnsureOwnerAsync(this IRunLedger ledger, string runId, string owner, CancellationToken ct = default)
    {
        var current = await ledger.ReadAsync(runId, ct).ConfigureAwait(false)
            ?? throw new RunOwnedException(runId, null, $"run '{runId}' has no owner record in {ledger.Uri}; execution {owner} cannot write to it");
        if (current.Owner != owner) throw new RunOwnedException(runId, current);
        return current;
    }

    /// <summary>Marks the run finished or failed, if <paramref name="owner"/> still owns it; idempotent.</summary>
    public static async Task<RunOwner> MarkAsync(this IRunLedger ledger, string runId, string owner, string status, CancellationToken ct = default)
    {
        var current = await ledger.EnsureOwnerAsync(runId, owner, ct).ConfigureAwait(false);
        return current.Status == status ? current : await ledger.ReplaceAsync(current, owner, status, current.Process, ct).ConfigureAwait(false);
    }
}
