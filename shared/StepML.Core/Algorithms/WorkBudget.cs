namespace StepML.Core.Algorithms;

/// <summary>
/// The time a worker may spend on local work in one round, so that no job can make it outlive its function timeout
/// or the 5-minute EXPRESS child that runs it (README "Limits"). Algorithms with many local steps (MA-SGD, ADMM)
/// check it between mini-batches, always after at least one step, and stop early; the worker then reports the
/// samples it used. A round that stops early depends on timing and is not reproducible bit for bit; a round that
/// does not is unaffected, since the check reads the clock and changes nothing else.
/// </summary>
public sealed class WorkBudget
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly TimeSpan _limit;
    private readonly CancellationToken _stopped;

    /// <param name="time">The clock.</param>
    /// <param name="limit">Time allowed from <paramref name="startTimestamp"/> (from <paramref name="time"/>'s GetTimestamp);
    /// <see cref="TimeSpan.MaxValue"/> for none.</param>
    /// <param name="startTimestamp">When the round's work began (the handler's start, so loading counts too).</param>
    /// <param name="stopped">Ends the work at once: the local engine's cancellation of an invocation it gave up on (in
    /// Lambda the runtime stops the function instead).</param>
    public WorkBudget(TimeProvider time, TimeSpan limit, long startTimestamp, CancellationToken stopped = default)
    {
        _stopped = stopped;
        ArgumentNullException.ThrowIfNull(time);
        if (limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(limit), limit, "a work budget must be positive");
        _time = time;
        _limit = limit;
        _start = startTimestamp;
    }

    private WorkBudget()
    {
        _time = TimeProvider.System;
        _limit = TimeSpan.MaxValue;
    }

    /// <summary>No limit: the algorithm does all its configured local work.</summary>
    public static WorkBudget Unlimited { get; } = new();

    public bool IsUnlimited => _limit == TimeSpan.MaxValue;

    /// <summary>True once the budget is used up.</summary>
    public bool IsSpent => _stopped.IsCancellationRequested || (!IsUnlimited && _time.GetElapsedTime(_start) >= _limit);
}
