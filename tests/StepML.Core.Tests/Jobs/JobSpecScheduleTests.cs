using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public sealed class JobSpecScheduleTests
{
    private static JobSpec Parse(string algorithm, string extra = "") => JobSpecParser.Parse(
        $$"""{ "dataset": { "path": "d.libsvm" }, "model": { "type": "logistic" }, "algorithm": {{algorithm}}, "stop": { "maxRounds": 20 } {{extra}} }""");

    [Fact]
    public void Parse_CosineWithWarmup_ReadsAndRoundTrips()
    {
        var spec = Parse("""{ "type": "ma-sgd", "schedule": "cosine", "warmupRounds": 5 }""");

        Assert.Equal(Schedules.Cosine, spec.Algorithm.Schedule);
        Assert.Equal(5, spec.Algorithm.WarmupRounds);
        Assert.True(spec.Algorithm.IsScheduled);
        Assert.Equal(spec, JobSpecParser.Parse(JobSpecParser.ToJson(spec)));
    }

    [Fact]
    public void ToJson_NoSchedule_WritesNeitherField()
    {
        // Jobs stored before schedules existed keep their exact stored form.
        var json = JobSpecParser.ToJson(Parse("""{ "type": "ga-sgd" }"""));

        Assert.DoesNotContain("schedule", json);
        Assert.DoesNotContain("warmupRounds", json);
        Assert.False(JobSpecParser.Parse(json).Algorithm.IsScheduled);
    }

    [Theory]
    [InlineData("""{ "type": "ga-sgd", "schedule": "cosin" }""", "", "algorithm.schedule", "did you mean \"cosine\"")]
    [InlineData("""{ "type": "ga-sgd", "warmupRounds": -1 }""", "", "algorithm.warmupRounds", "below stop.maxRounds")]
    [InlineData("""{ "type": "ga-sgd", "warmupRounds": 20 }""", "", "algorithm.warmupRounds", "below stop.maxRounds (20)")]
    [InlineData("""{ "type": "newton", "schedule": "cosine" }""", "", "algorithm.schedule", "takes no step size")]
    [InlineData("""{ "type": "cocoa", "warmupRounds": 2 }""", "", "algorithm.warmupRounds", "takes no step size")]
    [InlineData("""{ "type": "ga-sgd", "schedule": "cosine" }""", """, "communication": { "synchronization": "async" }""", "algorithm.schedule", "\"async\"")]
    public void Parse_ScheduleThatCannotApply_NamesTheFieldAndTheFix(string algorithm, string extra, string field, string fix)
    {
        var error = Assert.Throws<JobSpecException>(() => Parse(algorithm, extra));

        Assert.Equal(field, error.Field);
        Assert.Contains(fix, error.Message);
    }
}
