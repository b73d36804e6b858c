namespace StepML.Core.Algorithms;

/// <summary>
/// The proximal operator of t·|x| (Parikh and Boyd, "Proximal Algorithms", 2014, §6.5.2), the soft-thresholding
/// S_t(v) = sign(v)·max(|v| − t, 0) that turns a gradient or averaging step into one for an L1-regularised objective.
/// It acts elementwise, so every merger applies it to its own shard.
/// </summary>
public static class Proximal
{
    /// <summary>S_t(v); exactly v when t is 0, so an L1-free job keeps its bits.</summary>
    public static float SoftThreshold(float v, float t)
    {
        if (t <= 0) return v;
        return v > t ? v - t : v < -t ? v + t : 0f;
    }

    /// <summary>Regularised parameters (mask 1) that are exactly zero: the sparsity an L1 penalty produces.</summary>
    public static long ZeroCount(ReadOnlySpan<float> parameters, ReadOnlySpan<float> mask)
    {
        long zeros = 0;
        for (var i = 0; i < parameters.Length; i++)
            if (mask[i] != 0 && parameters[i] == 0) zeros++;
        return zeros;
    }
}
