using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models;

public class ParameterLayoutTests
{
    [Theory]
    [InlineData("resnet", 20)]
    [InlineData("resnet", 18)]
    [InlineData("mobilenet", 0)]
    public void Of_DeepNetwork_TilesTheParameterVectorWithUniqueNames(string type, int depth)
    {
        var model = type == "resnet" ? ResNet.Create(28, 28, 1, depth, 0.25, 10) : MobileNet.Create(28, 28, 1, 0.25, 10);

        var tensors = ParameterLayout.Of(model);

        var offset = 0;
        foreach (var tensor in tensors)
        {
            Assert.Equal(offset, tensor.Offset);
            offset += tensor.Length;
        }
        Assert.Equal(model.ParameterCount, offset);
        Assert.Equal(tensors.Count, tensors.Select(t => t.Name).Distinct().Count());
    }

    [Fact]
    public void Of_ResNet_NamesBlocksAndRunningMoments()
    {
        var names = ParameterLayout.Of(ResNet.Create(28, 28, 1, 8, 0.25, 10)).Select(t => t.Name).ToList();

        Assert.Equal(["conv0.weight", "bn0.weight", "bn0.bias", "bn0.running_mean", "bn0.running_square"], names.Take(5));
        Assert.Contains("block1.main.conv1.weight", names);
        Assert.Contains("block1.shortcut.bn0.running_square", names);
        Assert.DoesNotContain("conv0.bias", names); // convolutions before batch norm have no bias
        Assert.Equal(["dense0.weight", "dense0.bias"], names.TakeLast(2));
    }
}
