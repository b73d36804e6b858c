using StepML.Core.Data;

namespace StepML.Core.Models.Neural;

/// <summary>
/// The standard CIFAR training augmentation (He et al. 2016 §4.2): pad the NHWC image with <see cref="CropPadding"/>
/// zeros on each side, take a random crop of the original size, and flip it left–right with probability 1/2:
/// out[y, x] = in[y + dy, x' + dx] with x' = W − 1 − x when flipped (else x), dx, dy uniform in [−p, p], and 0 outside
/// the image. Each row's draw comes from (the batch's seed, the row's index), and the batch's seed from
/// (job seed, partition, step) (<see cref="Algorithms.MiniBatches.Batch"/>), so every worker and round sees its own
/// crops, and a retried worker the same ones. Evaluation never augments.
/// </summary>
public sealed record ImageAugmentation(int Height, int Width, int Channels, int CropPadding, bool HorizontalFlip)
{
    public bool IsActive => CropPadding > 0 || HorizontalFlip;

    /// <summary>Writes the augmented <paramref name="image"/> into <paramref name="output"/> (same size, no overlap).</summary>
    public void Apply(ReadOnlySpan<float> image, Span<float> output, ulong seed)
    {
        var (h, w, c, p) = (Height, Width, Channels, CropPadding);
        var state = seed;
        var bits = Xoshiro256.SplitMix64(ref state);
        var span = (ulong)(2 * p + 1);
        var dy = (int)(bits % span) - p;
        var dx = (int)(bits / span % span) - p;
        var flip = HorizontalFlip && (Xoshiro256.SplitMix64(ref state) & 1) == 1;
        for (var y = 0; y < h; y++)
        {
            var row = output.Slice(y * w * c, w * c);
            var iy = y + dy;
            if ((uint)iy >= (uint)h)
            {
                row.Clear();
                continue;
            }
            var source = image.Slice(iy * w * c, w * c);
            if (!flip)
            {
                // x + dx inside [0, w) for x in [first, last): one contiguous copy, zeros around it.
                var first = Math.Max(0, -dx);
                var last = Math.Min(w, w - dx);
                row[..(first * c)].Clear();
                source.Slice((first + dx) * c, (last - first) * c).CopyTo(row[(first * c)..]);
                row[(last * c)..].Clear();
                continue;
            }
            for (var x = 0; x < w; x++)
            {
                var ix = w - 1 - x + dx;
                var pixel = row.Slice(x * c, c);
                if ((uint)ix < (uint)w) source.Slice(ix * c, c).CopyTo(pixel);
                else pixel.Clear();
            }
        }
    }
}
