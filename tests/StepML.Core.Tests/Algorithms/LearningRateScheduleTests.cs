using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tests.Models;
using AlgorithmWorkerInput = StepML.Core.Algorithms.WorkerInput;

namespace StepML.Core.Tests.Algorithms;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void At_Constant_IsTheRateEveryRound()
    {
        var schedule = new LearningRateSchedule(0.3, Schedules.Constant, 0, 10);

        Assert.All(new long[] { 0, 1, 9, 500 }, r => Assert.Equal(0.3, schedule.At(r)));
    }

    [Fact]
    public void At_Warmup_RisesLinearlyToTheRateThenHolds()
    {
        var schedule = new LearningRateSchedule(0.8, Schedules.Constant, 4, 10);

        Assert.Equal([0.2, 0.4, 0.6, 0.8, 0.8, 0.8], Enumerable.Range(0, 6).Select(r => Math.Round(schedule.At(r), 12)));
    }

    [Fact]
    public void At_CosineAfterWarmup_StartsAtTheRateHalvesMidwayAndDecaysMonotonically()
    {
        // W = 2, R = 12: the cosine spans rounds 2..11 over 10 rounds; round 7 is its midpoint.
        var schedule = new LearningRateSchedule(1.0, Schedules.Cosine, 2, 12);

        Assert.Equal(0.5, schedule.At(0), 12);
        Assert.Equal(1.0, schedule.At(2), 12);
        Assert.Equal(0.5, schedule.At(7), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.9)), schedule.At(11), 12);
        for (long r = 3; r < 12; r++) Assert.True(schedule.At(r) < schedule.At(r - 1), $"round {r} did not decay");
        Assert.True(schedule.At(11) > 0);
    }

    [Fact]
    public void At_CosinePastTheHorizon_StaysAtZero()
    {
        var schedule = new LearningRateSchedule(1.0, Schedules.Cosine, 0, 10);

        Assert.Equal(0, schedule.At(10), 12);
        Assert.Equal(0, schedule.At(25), 12);
    }

    [Fact]
    public void For_Job_TakesTheRateScheduleWarmupAndMaxRounds()
    {
        var job = JobSpecParser.Parse("""{ "dataset": { "path": "d.libsvm" }, "algorithm": { "type": "ga-sgd", "learningRate": 0.2, "schedule": "cosine", "warmupRounds": 3 }, "stop": { "maxRounds": 40 } }""");

        Assert.Equal(new LearningRateSchedule(0.2, Schedules.Cosine, 3, 40), LearningRateSchedule.For(job));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GaSgdUpdate_Cosine_StepsWithTheRoundsRate(bool adam)
    {
        // The scheduled update of round r equals the constant-rate update at η_r, for SGD and for Adam.
        var spec = new AlgorithmSpec { Type = AlgorithmTypes.GaSgd, LearningRate = 0.5, Schedule = Schedules.Cosine, Optimizer = adam ? Optimizers.Adam : Optimizers.Sgd };
        var schedule = new LearningRateSchedule(0.5, Schedules.Cosine, 0, 8);
        float[] w = [2f, -1f, 0.5f];
        float[] merged = [0.4f, -1f, 0.25f];
        float[] mask = [1f, 1f, 0f];
        foreach (var round in new long[] { 0, 3, 6 })
        {
            var scheduled = new float[3];
            var constant = new float[3];
            var stateLength = adam ? 6 : 0;
            new GaSgd(spec, 0.1, schedule: schedule).Update(round, w, merged, mask, [], new float[stateLength], scheduled);
            new GaSgd(spec with { Schedule = Schedules.Constant, LearningRate = schedule.At(round) }, 0.1).Update(round, w, merged, mask, [], new float[stateLength], constant);

            Assert.Equal(constant, scheduled);
            if (round > 0) Assert.NotEqual(w[0] - scheduled[0], w[0] - Step(spec, round: 0, schedule, w, merged, mask)[0]);
        }
    }

    private static float[] Step(AlgorithmSpec spec, long round, LearningRateSchedule schedule, float[] w, float[] merged, float[] mask)
    {
        var next = new float[w.Length];
        new GaSgd(spec, 0.1, schedule: schedule).Update(round, w, merged, mask, [], new float[spec.Optimizer == Optimizers.Adam ? 2 * w.Length : 0], next);
        return next;
    }

    [Fact]
    public void MaSgdWork_Cosine_LocalStepsTakeTheRoundsRate()
    {
        const int features = 6;
        var data = ModelTestData.Dense(90, features, seed: 4);
        var lr = new LogisticRegression(features);
        var start = ModelTestData.RandomParameters(features + 1, seed: 8, scale: 0.5);
        var spec = new AlgorithmSpec { Type = AlgorithmTypes.MaSgd, LearningRate = 0.4, BatchSize = 20, Schedule = Schedules.Cosine, WarmupRounds = 1 };
        var schedule = new LearningRateSchedule(0.4, Schedules.Cosine, 1, 10);
        var input = new AlgorithmWorkerInput(lr, data, 0, 5, 42);
        var scheduled = new float[features + 1];
        var constant = new float[features + 1];
        var unscheduled = new float[features + 1];

        new MaSgd(spec, 0.01, schedule: schedule).Work(input, start, [], [], scheduled);
        new MaSgd(spec with { Schedule = Schedules.Constant, WarmupRounds = 0, LearningRate = schedule.At(5) }, 0.01).Work(input, start, [], [], constant);
        new MaSgd(spec with { Schedule = Schedules.Constant, WarmupRounds = 0 }, 0.01).Work(input, start, [], [], unscheduled);

        Assert.Equal(constant, scheduled);
        Assert.NotEqual(unscheduled, scheduled);
    }
}
