namespace StepML.Core.Models;

/// <summary>
/// Model state that is merged like the weights but not trained by gradients (<see cref="IModel.StateMask"/>): every
/// algorithm's statistic carries the state's new value in those slots (GA-SGD: the model's "gradient" there is the
/// state after the worker's batch; MA-SGD: the local model's state), so after any update rule has run, the merged
/// sample-weighted average replaces the state, and the optimizer keeps no momentum for it.
/// </summary>
public static class ModelState
{
    /// <summary>Whether the model has any state slot (most have none, and skip the mask).</summary>
    public static bool Any(IModel model, out float[] mask)
    {
        mask = new float[model.ParameterCount];
        model.StateMask(mask);
        return mask.AsSpan().IndexOfAnyExcept(0f) >= 0;
    }

    /// <summary>Over one shard: newModel = merged and the optimizer state zero where the mask is 1.</summary>
    public static void Apply(ReadOnlySpan<float> mask, ReadOnlySpan<float> merged, Span<float> newModel, Span<float> optimizer, int stride)
    {
        if (mask.Length != newModel.Length || merged.Length != newModel.Length || optimizer.Length != newModel.Length * stride)
            throw new ArgumentException($"state mask {mask.Length}, merged {merged.Length}, model {newModel.Length}, optimizer {optimizer.Length} (stride {stride}) must cover one shard");
        for (var i = 0; i < mask.Length; i++)
        {
            if (mask[i] == 0f) continue;
            newModel[i] = merged[i];
            optimizer.Slice(i * stride, stride).Clear();
        }
    }
}
