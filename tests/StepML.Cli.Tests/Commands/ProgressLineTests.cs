using StepML.Cli.Commands;
using StepML.Functions;

namespace StepML.Cli.Tests.Commands;

public class ProgressLineTests
{
    [Fact]
    public void Validation_AccuracyModel_ShowsLossAndPercent() =>
        Assert.Equal("  val loss 0.250000  acc 91.25%", RunCommand.Validation(new RunState { ValidationLoss = 0.25, ValidationMetric = 0.9125, MetricName = "accuracy" }));

    [Fact]
    public void Validation_OtherMetric_ShowsItsName() =>
        Assert.Equal("  val loss 3.000000  inertia 12.5", RunCommand.Validation(new RunState { ValidationLoss = 3, ValidationMetric = 12.5, MetricName = "inertia" }));

    [Fact]
    public void Validation_NoValidationSplit_IsEmpty() => Assert.Equal("", RunCommand.Validation(new RunState()));
}
