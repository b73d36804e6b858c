using StepML.Core.Cost;
using StepML.Core.Jobs;

namespace StepML.Functions.Reports;

/// <summary>A run's cost breakdown from what the store holds: final.json's when the run finished, else the rounds'
/// recorded usage priced (<see cref="CostModel.Price"/>). A search prices each trial with this.</summary>
public static class RunCosts
{
    public static CostBreakdown Of(JobSpec job, IReadOnlyList<RoundMetrics> rounds, FinalSummary? summary = null, bool arm = false) =>
        summary?.Cost ?? CostModel.Price(ResourceUsage.Sum(rounds.Select(r => r.Usage)), job.Communication.Channel, arm);
}
