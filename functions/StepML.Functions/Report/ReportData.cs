using StepML.Core.Jobs;
using StepML.Core.Models;

namespace StepML.Functions.Reports;

/// <summary>One worker's round from the execution history: its partition, when it started (seconds since the run
/// started), how long it took, its attempts and its status (ok, retried, failed).</summary>
public sealed record WorkerSpan(long Round, int Partition, double Start, double Seconds, int Attempts, string Status, string? Error);

/// <summary>Everything report.html shows. Finalize and RecordFailure fill what the store holds; the CLI adds the
/// worker timeline from history.json and, for the demo, the single-machine optimum.</summary>
public sealed record ReportData(string RunId, JobSpec Job, IReadOnlyList<RoundMetrics> Rounds)
{
    public FinalSummary? Summary { get; init; }
    public FailureRecord? Failure { get; init; }
    public IReadOnlyList<WorkerSpan>? Workers { get; init; }
    /// <summary>The optimal training objective when one is known (the demo's Newton solution), for the gap plot.</summary>
    public double? OptimumLoss { get; init; }
    public string? OptimumSource { get; init; }
    public IReadOnlyList<ParameterTensor> Parameters { get; init; } = [];
}
