using StepML.Core.Jobs;

namespace StepML.Core.Training;

public static class Actions
{
    public const string Continue = "continue";
    public const string Stop = "stop";
    public const string ContinueAsNew = "continue-as-new";
}

/// <summary>What Decide concluded after a round, and why (shown in the CLI and stored in the metrics).</summary>
public sealed record Decision(string Action, string Reason, int StallRounds);

/// <summary>The loss was not finite, or grew past <c>stop.divergenceFactor</c> times the first loss. The model of
/// the last good round stays in the store; lower the learning rate (or raise ρ for ADMM).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

public static class StopRules
{
    /// <summary>Consecutive rounds whose relative loss change is below the tolerance before the run stops.</summary>
    public const int Patience = 3;

    /// <summary>Standard workflows stop at 25,000 history events; leave room for Prepare, Finalize and retries.</summary>
    public const int HistoryEventLimit = 25_000;
    public const int HistoryReserve = 1_000;

    /// <param name="round">The round just merged (0-based); the model it produced is round + 1.</param>
    /// <param name="loss">Training objective of the model the round started from.</param>
    /// <param name="modelChange">‖w_{r+1} − w_r‖ / ‖w_r‖ (infinite when ‖w_r‖ = 0).</param>
    /// <param name="relativeGap">The certified relative gap of the round's model (<see cref="DualityGap"/>), or null when
    /// the algorithm gives none.</param>
    public static Decision Decide(StopSpec stop, long round, double loss, double? previousLoss, double firstLoss,
        int stallRounds, double elapsedSeconds, double costUsd, int roundsThisExecution, int roundsPerExecution, double modelChange = double.PositiveInfinity,
        double? relativeGap = null)
    {
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException($"round {round}: the training loss is {loss}; the model of round {round} is kept. Lower algorithm.learningRate");
        if (round > 0 && loss > stop.DivergenceFactor * firstLoss)
            throw new TrainingDivergedException($"round {round}: the training loss {loss:G6} exceeds {stop.DivergenceFactor} × the first round's {firstLoss:G6}; lower algorithm.learningRate (or raise algorithm.rho for ADMM)");

        var stall = previousLoss is { } p && Math.Abs(p - loss) <= stop.Tolerance * Math.Max(Math.Abs(p), 1e-12) ? stallRounds + 1 : 0;
        if (stop.TargetLoss is { } target && loss <= target)
            return new Decision(Actions.Stop, $"loss {loss:G6} reached stop.targetLoss {target}", stall);
        if (stop.Gap is { } gapTarget && relativeGap is { } certified && certified <= gapTarget)
            return new Decision(Actions.Stop, $"certified: at most {certified * 100:G3}% above the optimum (duality gap), within stop.gap {gapTarget}", stall);
        if (round + 1 >= stop.MaxRounds)
            return new Decision(Actions.Stop, $"stop.maxRounds {stop.MaxRounds} reached", stall);
        if (stop.ModelTolerance > 0 && modelChange <= stop.ModelTolerance)
            return new Decision(Actions.Stop, $"converged: the model moved {modelChange:G3} (relative), below stop.modelTolerance {stop.ModelTolerance}", stall);
        if (stop.Tolerance > 0 && stall >= Patience)
            return new Decision(Actions.Stop, $"converged: relative loss change below stop.tolerance {stop.Tolerance} for {Patience} rounds", stall);
        if (elapsedSeconds >= stop.MaxSeconds)
            return new Decision(Actions.Stop, $"stop.maxSeconds {stop.MaxSeconds} reached ({elapsedSeconds:F1} s)", stall);
        if (stop.MaxCostUsd is { } budget && costUsd >= budget)
            return new Decision(Actions.Stop, $"stop.maxCostUsd {budget} reached (${costUsd:F4})", stall);
        if (roundsThisExecution + 1 >= roundsPerExecution)
            return new Decision(Actions.ContinueAsNew, $"{roundsPerExecution} rounds in this execution; continuing as a new execution before the history limit", stall);
        return new Decision(Actions.Continue, "", stall);
    }

    /// <summary>History events one round adds to the parent execution: the Distributed Map records about 7 events
    /// whatever the partition count (its iterations are child executions), the aggregation Choice 2, the inline merge
    /// Map about 5 + 7 per shard, Decide 5 and the Choice 2.</summary>
    public static int EventsPerRound(int shards) => 7 + 2 + 5 + 7 * shards + 5 + 2;

    /// <summary>The same for tree aggregation: the aggregation Choice and the level loop's first Pass (2 each), then per
    /// level a Pass selecting its groups (2), its Map (5 + 7 per merger), the level Choice (2) and the counter Pass (2).</summary>
    public static int EventsPerTreeRound(IReadOnlyList<int> levelSizes) => 7 + 2 + 2 + levelSizes.Sum(size => 2 + 5 + 7 * size + 2 + 2) + 5 + 2;

    public static int EventsPerRound(JobSpec job) => job.Communication.Pattern == Patterns.Tree
        ? EventsPerTreeRound(Communication.TreePlan.LevelSizes(job.Dataset.Partitions, job.Communication.FanIn))
        : EventsPerRound(job.Communication.Shards);

    public static int RoundsPerExecution(StopSpec stop, int shards) => Derive(stop, EventsPerRound(shards));

    public static int RoundsPerExecution(JobSpec job) => Derive(job.Stop, EventsPerRound(job));

    private static int Derive(StopSpec stop, int eventsPerRound) =>
        stop.RoundsPerExecution > 0 ? stop.RoundsPerExecution : Math.Max(1, (HistoryEventLimit - HistoryReserve) / eventsPerRound);
}
