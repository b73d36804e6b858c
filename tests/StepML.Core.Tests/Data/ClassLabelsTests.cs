using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class ClassLabelsTests
{
    [Theory]
    [InlineData(0f)]
    [InlineData(7f)]
    [InlineData(99_999f)]
    public void Check_ClassIdBelowBound_ReturnsIt(float label)
    {
        Assert.Equal(label, ClassLabels.Check(label, ClassLabels.DefaultMaxClasses, fromJob: false, "f", 1));
    }

    [Theory]
    [InlineData(2.5f, "not a class id")]
    [InlineData(-1f, "not a class id")]
    [InlineData(float.NaN, "not a class id")]
    [InlineData(1e9f, "at most 100,000")]
    [InlineData(100_000f, "at most 100,000")]
    public void Check_BadLabel_ThrowsNamingFileAndLine(float label, string expected)
    {
        var e = Assert.Throws<DatasetFormatException>(() => ClassLabels.Check(label, ClassLabels.DefaultMaxClasses, fromJob: false, "datasets/x.libsvm", 42));

        Assert.StartsWith("datasets/x.libsvm:42: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Check_LabelAtJobClasses_SaysWhichClassesToSet()
    {
        var e = Assert.Throws<DatasetFormatException>(() => ClassLabels.Check(10f, 10, fromJob: true, "f", 3));

        Assert.Contains("model.classes to 11", e.Message);
    }
}
