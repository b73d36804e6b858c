using StepML.Core.Algorithms;
using StepML.Core.Data;
using StepML.Core.Models.Neural;

namespace StepML.Core.Tests.Models.Neural;

public class ImageAugmentationTests
{
    private const int H = 5, W = 6, C = 3;

    // The naive transform: out[y, x] = in[y + dy, (flip ? W − 1 − x : x) + dx], 0 outside.
    private static float[] Oracle(float[] image, int dy, int dx, bool flip)
    {
        var output = new float[image.Length];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
                for (var c = 0; c < C; c++)
                {
                    int iy = y + dy, ix = (flip ? W - 1 - x : x) + dx;
                    output[(y * W + x) * C + c] = iy is >= 0 and < H && ix is >= 0 and < W ? image[(iy * W + ix) * C + c] : 0f;
                }
        return output;
    }

    [Fact]
    public void Apply_ManySeeds_EachOutputIsOneCropAndFlipAndAllAppear()
    {
        var image = LayerGradientTests.Random(H * W * C, new Xoshiro256(71));
        var augmentation = new ImageAugmentation(H, W, C, CropPadding: 2, HorizontalFlip: true);
        var seen = new HashSet<(int, int, bool)>();
        var output = new float[image.Length];
        for (ulong seed = 1; seed <= 2000; seed++)
        {
            augmentation.Apply(image, output, seed * 0x9E3779B97F4A7C15UL);
            var matches = (from dy in Enumerable.Range(-2, 5) from dx in Enumerable.Range(-2, 5) from flip in new[] { false, true }
                           where Oracle(image, dy, dx, flip).AsSpan().SequenceEqual(output)
                           select (dy, dx, flip)).ToList();
            Assert.NotEmpty(matches);
            seen.Add(matches[0]);
        }
        Assert.Equal(5 * 5 * 2, seen.Count);
    }

    [Fact]
    public void Apply_SameSeed_SameImage()
    {
        var image = LayerGradientTests.Random(H * W * C, new Xoshiro256(72));
        var augmentation = new ImageAugmentation(H, W, C, 4, true);
        var (a, b) = (new float[image.Length], new float[image.Length]);
        augmentation.Apply(image, a, 12345);
        augmentation.Apply(image, b, 12345);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Batch_SeedsDifferByPartitionAndStep_AndRepeat()
    {
        var data = Partition.CreateDense(1, new float[10], new float[10]);
        ulong SeedOf(int partition, long step)
        {
            int[]? order = null;
            long epoch = -1;
            return MiniBatches.Batch(data, 4, 7, partition, step, ref order, ref epoch).Seed;
        }
        var seeds = new[] { SeedOf(0, 0), SeedOf(0, 1), SeedOf(1, 0), SeedOf(1, 1) };
        Assert.Equal(4, seeds.Distinct().Count());
        Assert.DoesNotContain(0UL, seeds);
        Assert.Equal(SeedOf(1, 1), seeds[3]);
    }

    [Fact]
    public void Evaluate_NeverAugments()
    {
        var rng = new Xoshiro256(73);
        var layers = new ILayer[] { new DenseLayer(H * W * C, 2, WeightInit.Xavier) };
        var plain = new FeedForwardModel("cnn", 2, layers);
        var augmented = new FeedForwardModel("cnn", 2, layers, new ImageAugmentation(H, W, C, 2, true));
        var data = Partition.CreateDense(H * W * C, [0, 1, 1], LayerGradientTests.Random(3 * H * W * C, rng));
        var parameters = LayerGradientTests.Random(plain.ParameterCount, rng);
        Assert.Equal(plain.Evaluate(parameters, data), augmented.Evaluate(parameters, data));
        var (g1, g2) = (new float[plain.ParameterCount], new float[plain.ParameterCount]);
        var batch = new StepML.Core.Models.RowSelection(0, 3) { Seed = 99 };
        plain.LossAndGradient(parameters, data, batch, g1);
        augmented.LossAndGradient(parameters, data, batch, g2);
        Assert.NotEqual(g1, g2); // training batches with a seed are augmented
    }
}
