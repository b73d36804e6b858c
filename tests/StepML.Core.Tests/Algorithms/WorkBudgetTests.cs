using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using AlgorithmWorkerInput = StepML.Core.Algorithms.WorkerInput;

namespace StepML.Core.Tests.Algorithms;

public sealed class WorkBudgetTests
{
    private const int Features = 9;
    private static readonly StepML.Core.Data.Partition s_data = ModelTestData.Dense(301, Features, seed: 2);

    // A clock that advances by a fixed step each time it is read, so "time" is a count of budget checks.
    private sealed class SteppingClock(long ticksPerRead) : TimeProvider
    {
        private long _now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Interlocked.Add(ref _now, ticksPerRead);
    }

    private static (WorkerResult Result, float[] Statistic) Work(IAlgorithm algorithm, WorkBudget budget, float[]? previous = null)
    {
        var model = ModelTestData.RandomParameters(Features + 1, seed: 4, scale: 0.5);
        var statistic = new float[model.Length];
        var state = new float[algorithm.WorkerStateLength(model.Length, s_data.Rows)];
        var input = new AlgorithmWorkerInput(new LogisticRegression(Features), s_data, 1, 3, 42) { Budget = budget };
        var result = algorithm.Work(input, model, previous ?? [], state, statistic);
        return (result, statistic);
    }

    private static readonly AlgorithmSpec s_spec = new() { LearningRate = 0.1, BatchSize = 10, LocalEpochs = 4, Rho = 0.5 };

    [Fact]
    public void MaSgd_BudgetNotReached_IsBitIdenticalToNoBudget()
    {
        var unlimited = Work(new MaSgd(s_spec, 0.01), WorkBudget.Unlimited);
        var generous = Work(new MaSgd(s_spec, 0.01), new WorkBudget(new SteppingClock(1), TimeSpan.FromHours(1), 0));

        Assert.False(generous.Result.BudgetCut);
        Assert.Equal(unlimited.Result, generous.Result);
        Assert.Equal(unlimited.Statistic, generous.Statistic);
    }

    [Fact]
    public void MaSgd_BudgetSpentAfterFiveChecks_StopsAndWeighsTheRowsItVisited()
    {
        // Each check reads the clock once and advances it 1 s: the 5th check (before step 6) sees 5 s ≥ the budget.
        var clock = new SteppingClock(TimeSpan.TicksPerSecond);
        var cut = Work(new MaSgd(s_spec, 0.01), new WorkBudget(clock, TimeSpan.FromSeconds(5), 0));
        var full = Work(new MaSgd(s_spec, 0.01), WorkBudget.Unlimited);

        Assert.True(cut.Result.BudgetCut);
        Assert.Equal(5 * 10, cut.Result.Samples);
        Assert.Equal(s_data.Rows, full.Result.Samples);
        Assert.NotEqual(full.Statistic, cut.Statistic);
    }

    [Fact]
    public void MaSgd_BudgetSpentBeforeStarting_StillTakesOneStep()
    {
        var stopped = new CancellationTokenSource();
        stopped.Cancel();
        var model = ModelTestData.RandomParameters(Features + 1, seed: 4, scale: 0.5);

        var cut = Work(new MaSgd(s_spec, 0.01), new WorkBudget(TimeProvider.System, TimeSpan.MaxValue, 0, stopped.Token));

        Assert.True(cut.Result.BudgetCut);
        Assert.Equal(10, cut.Result.Samples);
        Assert.NotEqual(model, cut.Statistic);
    }

    [Fact]
    public void Admm_BudgetCut_KeepsTheConsensusWeight()
    {
        var clock = new SteppingClock(TimeSpan.TicksPerSecond);

        var cut = Work(new Admm(s_spec, 0.01), new WorkBudget(clock, TimeSpan.FromSeconds(3), 0));

        Assert.True(cut.Result.BudgetCut);
        Assert.Equal(s_data.Rows, cut.Result.Samples);
    }

    [Fact]
    public void Constructor_NonPositiveLimit_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkBudget(TimeProvider.System, TimeSpan.Zero, 0));
    }
}
