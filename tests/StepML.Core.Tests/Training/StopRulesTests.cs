using StepML.Core.Jobs;
using StepML.Core.Training;

namespace StepML.Core.Tests.Training;

public class StopRulesTests
{
    // Generous limits that never fire unless a test lowers one.
    private static readonly StopSpec s_open = new() { MaxRounds = 1000, MaxSeconds = 1e6, Tolerance = 0, DivergenceFactor = 10 };

    private static Decision Decide(StopSpec stop, long round = 3, double loss = 0.5, double? previousLoss = 0.6, double firstLoss = 0.7,
        int stallRounds = 0, double elapsedSeconds = 1, double costUsd = 0.01, int roundsThisExecution = 0, int roundsPerExecution = 1000) =>
        StopRules.Decide(stop, round, loss, previousLoss, firstLoss, stallRounds, elapsedSeconds, costUsd, roundsThisExecution, roundsPerExecution);

    [Fact]
    public void Decide_NoRuleFires_Continues()
    {
        var decision = Decide(s_open);

        Assert.Equal(Actions.Continue, decision.Action);
        Assert.Equal("", decision.Reason);
    }

    [Theory]
    [InlineData(0.5, 0.5, "stop")]
    [InlineData(0.49, 0.5, "stop")]
    [InlineData(0.51, 0.5, "continue")]
    public void Decide_TargetLoss_StopsAtOrBelowTarget(double loss, double target, string expected)
    {
        var decision = Decide(s_open with { TargetLoss = target }, loss: loss);

        Assert.Equal(expected, decision.Action);
        if (expected == Actions.Stop) Assert.Contains("stop.targetLoss", decision.Reason);
    }

    [Theory]
    [InlineData(8, "continue")]
    [InlineData(9, "stop")]
    public void Decide_MaxRounds_StopsAfterTheLastAllowedRound(long round, string expected)
    {
        // Round 9 is the tenth round (0-based); with maxRounds 10 it is the last.
        var decision = Decide(s_open with { MaxRounds = 10 }, round: round);

        Assert.Equal(expected, decision.Action);
        if (expected == Actions.Stop) Assert.Contains("stop.maxRounds 10", decision.Reason);
    }

    [Fact]
    public void Decide_ToleranceWithPatience_StopsOnlyAfterThreeStalledRoundsInARow()
    {
        // Arrange: relative changes of 1e-5 with tolerance 1e-4 stall; a large change in between resets the count.
        var stop = s_open with { Tolerance = 1e-4 };
        double[] losses = [1.0, 0.99999, 0.99998, 0.5, 0.499995, 0.49999, 0.499985];
        var actions = new List<string>();
        var stalls = new List<int>();
        double? previous = null;
        var stall = 0;

        // Act
        for (var r = 0; r < losses.Length; r++)
        {
            var d = Decide(stop, round: r, loss: losses[r], previousLoss: previous, firstLoss: losses[0], stallRounds: stall);
            actions.Add(d.Action);
            stalls.Add(d.StallRounds);
            stall = d.StallRounds;
            previous = losses[r];
        }

        // Assert
        Assert.Equal([0, 1, 2, 0, 1, 2, 3], stalls);
        Assert.Equal(["continue", "continue", "continue", "continue", "continue", "continue", "stop"], actions);
        Assert.Equal(StopRules.Patience, 3);
    }

    [Fact]
    public void Decide_ToleranceZero_NeverStopsOnStall()
    {
        var decision = Decide(s_open with { Tolerance = 0 }, loss: 0.5, previousLoss: 0.5, stallRounds: 10);

        Assert.Equal(Actions.Continue, decision.Action);
    }

    [Fact]
    public void Decide_ToleranceReached_ReasonNamesTolerance()
    {
        var decision = Decide(s_open with { Tolerance = 1e-3 }, loss: 0.5, previousLoss: 0.5, stallRounds: 2);

        Assert.Equal(Actions.Stop, decision.Action);
        Assert.Contains("stop.tolerance", decision.Reason);
    }

    [Theory]
    [InlineData(59.9, "continue")]
    [InlineData(60.0, "stop")]
    public void Decide_MaxSeconds_StopsWhenElapsedReachesLimit(double elapsed, string expected)
    {
        var decision = Decide(s_open with { MaxSeconds = 60 }, elapsedSeconds: elapsed);

        Assert.Equal(expected, decision.Action);
        if (expected == Actions.Stop) Assert.Contains("stop.maxSeconds", decision.Reason);
    }

    [Theory]
    [InlineData(0.99, "continue")]
    [InlineData(1.0, "stop")]
    public void Decide_CostBudget_StopsWhenCostReachesBudget(double cost, string expected)
    {
        var decision = Decide(s_open with { MaxCostUsd = 1 }, costUsd: cost);

        Assert.Equal(expected, decision.Action);
        if (expected == Actions.Stop) Assert.Contains("stop.maxCostUsd", decision.Reason);
    }

    [Theory]
    [InlineData(3, 5, "continue")]
    [InlineData(4, 5, "continue-as-new")]
    public void Decide_RoundsPerExecutionReached_ContinuesAsNew(int roundsThisExecution, int roundsPerExecution, string expected)
    {
        var decision = Decide(s_open, roundsThisExecution: roundsThisExecution, roundsPerExecution: roundsPerExecution);

        Assert.Equal(expected, decision.Action);
    }

    [Fact]
    public void Decide_StopRuleAndContinueAsNewTogether_StopWins()
    {
        var decision = Decide(s_open with { MaxRounds = 5 }, round: 4, roundsThisExecution: 4, roundsPerExecution: 5);

        Assert.Equal(Actions.Stop, decision.Action);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Decide_NonFiniteLoss_ThrowsTrainingDiverged(double loss)
    {
        var e = Assert.Throws<TrainingDivergedException>(() => Decide(s_open, round: 0, loss: loss, previousLoss: null));

        Assert.Contains("learningRate", e.Message);
    }

    [Fact]
    public void Decide_LossAboveFactorTimesFirst_ThrowsTrainingDiverged()
    {
        var e = Assert.Throws<TrainingDivergedException>(() => Decide(s_open with { DivergenceFactor = 10 }, round: 5, loss: 7.01, firstLoss: 0.7));

        Assert.Contains("10 × the first round", e.Message);
    }

    [Fact]
    public void Decide_LossExactlyFactorTimesFirst_NotDiverged()
    {
        var decision = Decide(s_open with { DivergenceFactor = 4 }, round: 5, loss: 2.0, firstLoss: 0.5);

        Assert.Equal(Actions.Continue, decision.Action);
    }

    [Fact]
    public void Decide_RoundZeroWithLargeLoss_NotDiverged()
    {
        // The first round defines the reference; it cannot exceed itself.
        var decision = Decide(s_open, round: 0, loss: 1e6, previousLoss: null, firstLoss: 1e-3);

        Assert.Equal(Actions.Continue, decision.Action);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(64)]
    public void RoundsPerExecution_Derived_FitsTheHistoryLimitWithReserve(int shards)
    {
        var rounds = StopRules.RoundsPerExecution(new StopSpec(), shards);

        var perRound = StopRules.EventsPerRound(shards);
        Assert.InRange(rounds, 1, int.MaxValue);
        Assert.True(rounds * perRound <= StopRules.HistoryEventLimit - 1000, $"{rounds} rounds × {perRound} events overflow the history");
        Assert.True((rounds + 1) * perRound > StopRules.HistoryEventLimit - 1000, "the derived count wastes history room");
    }

    [Fact]
    public void RoundsPerExecution_Explicit_Used()
    {
        Assert.Equal(7, StopRules.RoundsPerExecution(new StopSpec { RoundsPerExecution = 7 }, 4));
    }

    [Theory]
    [InlineData(5e-5, "stop")]
    [InlineData(1e-4, "stop")]
    [InlineData(2e-4, "continue")]
    public void Decide_CertifiedGap_StopsAtOrBelowStopGap(double relativeGap, string expected)
    {
        var decision = StopRules.Decide(s_open with { Gap = 1e-4 }, 3, 0.5, 0.6, 0.7, 0, 1, 0.01, 0, 1000, relativeGap: relativeGap);

        Assert.Equal(expected, decision.Action);
        if (expected == Actions.Stop) Assert.Contains("stop.gap", decision.Reason);
    }

    [Fact]
    public void Decide_NoCertificate_IgnoresStopGap()
    {
        var decision = StopRules.Decide(s_open with { Gap = 1e-4 }, 3, 0.5, 0.6, 0.7, 0, 1, 0.01, 0, 1000, relativeGap: null);

        Assert.Equal(Actions.Continue, decision.Action);
    }
}
