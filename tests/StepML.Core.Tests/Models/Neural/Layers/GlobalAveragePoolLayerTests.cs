using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural.Layers;

public class GlobalAveragePoolLayerTests
{
    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(2, 2, 19)]
    public void Backward_MatchesFiniteDifferences(int height, int width, int channels) =>
        LayerGradientTests.CheckLayer(new GlobalAveragePoolLayer(height, width, channels), batch: 3, seed: 41);

    [Fact]
    public void Forward_MatchesScalarOracle()
    {
        const int h = 3, w = 5, c = 11, batch = 2;
        var rng = new Xoshiro256(42);
        var layer = new GlobalAveragePoolLayer(h, w, c);
        var input = LayerGradientTests.Random(batch * h * w * c, rng);
        var output = new float[batch * c];
        layer.Forward([], input, output, batch);
        for (var b = 0; b < batch; b++)
            for (var ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (var p = 0; p < h * w; p++) sum += input[(b * h * w + p) * c + ch];
                Assert.Equal(sum / (h * w), output[b * c + ch], 1e-5);
            }
    }
}
