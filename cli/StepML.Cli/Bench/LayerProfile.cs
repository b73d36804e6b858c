using System.Diagnostics;
using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Cli.Bench;

/// <summary>
/// <c>stepml bench-neural --profile</c>: where a network's training time goes, per layer kind and shape. Every layer
/// (and every layer inside a residual block) is wrapped in a <see cref="Timed"/> decorator that adds its wall time to
/// a named bucket; a block's own share (the sum of its two paths and the shortcut's gradient) is its time minus its
/// layers'. What no layer accounts for (gathering the rows, the loss, dividing the gradient) is "model overhead".
/// Wall time, not CPU time: reading the process's CPU clock per call costs more than the small layers themselves.
/// </summary>
internal sealed class LayerProfile
{
    private readonly Dictionary<string, (double Seconds, long Calls)> _buckets = [];
    private readonly List<string> _order = [];
    private double _recorded; // every second added so far: a block subtracts what its layers recorded meanwhile

    private void Add(string name, double seconds)
    {
        if (!_buckets.TryGetValue(name, out var bucket)) _order.Add(name);
        _buckets[name] = (bucket.Seconds + seconds, bucket.Calls + 1);
        _recorded += seconds;
    }

    /// <summary>The same network with every layer timed (parameters and their order unchanged).</summary>
    public FeedForwardModel Wrap(FeedForwardModel model) =>
        new(model.Type, model.Classes, [.. model.Layers.Select(Wrap)], model.Augmentation);

    private ILayer Wrap(ILayer layer) => layer switch
    {
        ResidualBlock block => new Timed(this, "block: add paths + shortcut gradient (own time)",
            new ResidualBlock(block.InputSize, [.. block.Main.Select(Wrap)], [.. block.Shortcut.Select(Wrap)]), inner: true),
        _ => new Timed(this, Describe(layer), layer, inner: false),
    };

    private static string Describe(ILayer layer) => layer switch
    {
        Conv2dLayer c => $"conv {c.Kernel}x{c.Kernel} s{c.Stride} {c.Channels}->{c.Filters} at {c.Height}x{c.Width}",
        DepthwiseConv2dLayer d => $"depthwise {d.Kernel}x{d.Kernel} {d.Channels}ch -> {d.OutputHeight}x{d.OutputWidth}",
        BatchNormLayer b => $"batch norm {b.Channels}ch, {b.InputSize / b.Channels} px",
        ReluLayer r => $"relu {r.InputSize} values",
        _ => layer.GetType().Name.Replace("Layer", "").ToLowerInvariant(),
    };

    /// <summary>Times <paramref name="steps"/> training steps (after 3 to warm up) and returns the buckets, slowest
    /// first: name, seconds per step, share of the step's wall time.</summary>
    public static IReadOnlyList<(string Name, double SecondsPerStep, double Share)> Run(FeedForwardModel network, Partition data, int batch, int steps)
    {
        var profile = new LayerProfile();
        var model = profile.Wrap(network);
        var parameters = new float[model.ParameterCount];
        var gradient = new float[model.ParameterCount];
        model.Initialize(parameters, 1);
        var batches = data.Rows / batch;
        void Step(int i) => model.LossAndGradient(parameters, data, new RowSelection(i % batches * batch, batch), gradient);
        for (var i = 0; i < 3; i++) Step(i);
        profile._buckets.Clear();
        profile._order.Clear();
        profile._recorded = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) Step(i);
        var seconds = total.Elapsed.TotalSeconds;
        var layers = profile._buckets.Values.Sum(b => b.Seconds);
        var rows = profile._order.Select(name => (Name: name, Seconds: profile._buckets[name].Seconds)).ToList();
        rows.Add(("model overhead: gather, loss, scale gradient", seconds - layers));
        return [.. rows.OrderByDescending(r => r.Seconds).Select(r => (r.Name, r.Seconds / steps, r.Seconds / seconds))];
    }

    private sealed class Timed(LayerProfile profile, string name, ILayer layer, bool inner) : ILayer
    {
        public int InputSize => layer.InputSize;
        public int OutputSize => layer.OutputSize;
        public int ParameterCount => layer.ParameterCount;
        public int ScratchSize(int batch) => layer.ScratchSize(batch);
        public void Initialize(Span<float> parameters, Xoshiro256 random) => layer.Initialize(parameters, random);
        public void RegularizationMask(Span<float> mask) => layer.RegularizationMask(mask);
        public void StateMask(Span<float> mask) => layer.StateMask(mask);
        public void FinishState(ReadOnlySpan<float> parameters, Span<float> parameterGradient) => layer.FinishState(parameters, parameterGradient);
        public void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch) => layer.Forward(parameters, input, output, batch);

        public void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
            Span<float> inputGradient, Span<float> parameterGradient, int batch) =>
            layer.Backward(parameters, input, output, outputGradient, inputGradient, parameterGradient, batch);

        public void ForwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch)
        {
            var (start, before) = (Stopwatch.GetTimestamp(), profile._recorded);
            layer.ForwardTraining(parameters, input, output, batch, scratch);
            profile.Add(name + (inner ? "" : " forward"), Stopwatch.GetElapsedTime(start).TotalSeconds - (profile._recorded - before));
        }

        public void BackwardTraining(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
            Span<float> inputGradient, Span<float> parameterGradient, int batch, ReadOnlySpan<float> scratch)
        {
            var (start, before) = (Stopwatch.GetTimestamp(), profile._recorded);
            layer.BackwardTraining(parameters, input, output, outputGradient, inputGradient, parameterGradient, batch, scratch);
            profile.Add(name + (inner ? "" : " backward"), Stopwatch.GetElapsedTime(start).TotalSeconds - (profile._recorded - before));
        }
    }
}
