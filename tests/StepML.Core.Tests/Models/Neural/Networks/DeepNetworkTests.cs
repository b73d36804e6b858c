using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Networks;

public class DeepNetworkTests
{
    // The papers count weighted layers: convolutions on the main path (not projection shortcuts) and the dense layer.
    private static int WeightedDepth(IEnumerable<ILayer> layers) => layers.Sum(layer => layer switch
    {
        Conv2dLayer or DepthwiseConv2dLayer or DenseLayer => 1,
        ResidualBlock block => WeightedDepth(block.Main),
        _ => 0,
    });

    [Theory]
    [InlineData(8)]
    [InlineData(20)]
    [InlineData(18)]
    public void ResNetCreate_Depth_HasThatManyWeightedLayers(int depth) =>
        Assert.Equal(depth, WeightedDepth(ResNet.Create(32, 32, 3, depth, 0.25, 10).Layers));

    [Fact]
    public void MobileNetCreate_HasPapers28Layers() =>
        Assert.Equal(28, WeightedDepth(MobileNet.Create(32, 32, 3, 0.25, 10).Layers));

    [Fact]
    public void ResNetCreate_Cifar20_DownsamplesTwiceToSixtyFourChannels()
    {
        var model = ResNet.Create(32, 32, 3, 20, 1.0, 10);
        var pool = model.Layers.OfType<GlobalAveragePoolLayer>().Single();
        Assert.Equal(8 * 8 * 64, pool.InputSize);
        Assert.Equal(2, model.Layers.OfType<ResidualBlock>().Count(b => b.Shortcut.Count > 0));
    }

    [Fact]
    public void MobileNetCreate_FashionSize_EndsAtTwoByTwo()
    {
        var model = MobileNet.Create(28, 28, 1, 0.5, 10);
        Assert.Equal(2 * 2 * 512, model.Layers.OfType<GlobalAveragePoolLayer>().Single().InputSize);
    }

    /// <summary>The README's size table: trainable parameters as PyTorch counts them (bench/pytorch_models.py builds
    /// the same networks) plus two floats of batch-norm state per channel.</summary>
    [Theory]
    [InlineData("resnet", 8, 0.25, 5_142, 168)]
    [InlineData("resnet", 8, 0.5, 19_810, 336)]
    [InlineData("resnet", 20, 1.0, 272_186, 1_568)]
    [InlineData("mobilenet", 0, 0.125, 58_698, 2_736)]
    [InlineData("mobilenet", 0, 0.5, 823_434, 10_944)]
    [InlineData("mobilenet", 0, 1.0, 3_216_650, 21_888)]
    public void ParameterCount_FashionShape_MatchesReadmeTable(string type, int depth, double width, int trainable, int state)
    {
        var model = type == "resnet" ? ResNet.Create(28, 28, 1, depth, width, 10) : MobileNet.Create(28, 28, 1, width, 10);
        var mask = new float[model.ParameterCount];
        model.StateMask(mask);
        var stateCount = mask.Count(m => m != 0f);
        Assert.Equal((trainable, state), (model.ParameterCount - stateCount, stateCount));
    }

    [Fact]
    public void ResNetCreate_BadDepth_NamesModelDepth()
    {
        var e = Assert.Throws<JobSpecException>(() => ResNet.Create(32, 32, 3, 10, 1, 10));
        Assert.Equal("model.depth", e.Field);
    }

    /// <summary>The model-level gradient of a whole network (training mode, several batch-norm layers and residual
    /// blocks) against finite differences of its mean loss: a check of the wiring (a misplaced slice or a missed
    /// path is off by order 1), with a 5% tolerance because batch norm over the few values of an 8 × 8 input's last
    /// stages curves the float32 loss sharply; each layer's own gradient test is the tight one.</summary>
    [Theory]
    [InlineData("resnet")]
    [InlineData("mobilenet")]
    public void LossAndGradient_SmallNetwork_MatchesFiniteDifferences(string type)
    {
        const int rows = 16, h = 8, w = 8, c = 2;
        var model = type == "resnet" ? ResNet.Create(h, w, c, 8, 0.25, 3) : MobileNet.Create(h, w, c, 0.125, 3);
        var rng = new Xoshiro256(61);
        var labels = new float[rows];
        for (var r = 0; r < rows; r++) labels[r] = r % 3;
        var data = Partition.CreateDense(h * w * c, labels, LayerGradientTests.Random(rows * h * w * c, rng));
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 62);
        var state = new float[model.ParameterCount];
        model.StateMask(state);
        var gradient = new float[model.ParameterCount];
        var selection = new RowSelection(0, rows);
        model.LossAndGradient(parameters, data, selection, gradient);
        var scratch = new float[model.ParameterCount];
        double Difference(int i, float h)
        {
            var keep = parameters[i];
            parameters[i] = keep + h;
            var up = model.LossAndGradient(parameters, data, selection, scratch);
            parameters[i] = keep - h;
            var down = model.LossAndGradient(parameters, data, selection, scratch);
            parameters[i] = keep;
            return (up - down) / (2.0 * h);
        }
        var checkedCount = 0;
        for (var k = 0; k < 60; k++)
        {
            var i = rng.NextInt(parameters.Length);
            if (state[i] != 0f) continue;
            var numeric = Difference(i, 1e-4f);
            // Near a ReLU kink, or where batch norm over few values curves the loss sharply, differences at two step
            // sizes disagree: those coordinates say nothing about the backward pass, so they are skipped.
            if (Math.Abs(numeric - Difference(i, 3e-4f)) > 2e-3 + 2e-2 * Math.Abs(numeric)) continue;
            Assert.True(Math.Abs(numeric - gradient[i]) <= 3e-3 + 5e-2 * Math.Abs(numeric), $"{type} parameter {i}: finite difference {numeric}, backward {gradient[i]}");
            checkedCount++;
        }
        Assert.True(checkedCount >= 30, $"only {checkedCount} coordinates were smooth enough to check");
    }
}
