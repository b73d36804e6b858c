using System.Runtime.InteropServices;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Models.Neural;

namespace StepML.Cli.Export;

/// <summary>
/// Writes a trained model as an ONNX graph (IR version 8, opset 13) with one float input "input" [N, features]
/// (images flattened height × width × channels, as StepML reads them) and one output: "probability" [N, 1]
/// (logistic, P(y = 1)), "score" [N, 1] (SVM, w·x + b; class 1 when &gt; 0) or "probabilities" [N, K] (softmax, MLP,
/// CNN). Convolutions run in ONNX's NCHW: the input is reshaped and transposed, and each filter bank is permuted from
/// StepML's [k, k, C, F] to ONNX's [F, C, k, k]. Field numbers are those of onnx/onnx.proto.
/// </summary>
internal static class OnnxExporter
{
    private const int FloatType = 1, Int64Type = 7;          // TensorProto.DataType
    private const int AttributeInt = 2, AttributeInts = 7;   // AttributeProto.AttributeType

    // The deep networks (batch norm, residual blocks, depthwise convolutions) have no ONNX mapping yet: --format npy.
    public static bool CanExport(IModel model) => model is LogisticRegression or LinearSvm || model is FeedForwardModel { Type: ModelTypes.Softmax or ModelTypes.Mlp or ModelTypes.Cnn };

    public static byte[] Export(IModel model, float[] parameters, string graphName)
    {
        var graph = new Graph();
        var x = "input";
        string output;
        int outputColumns;
        switch (model)
        {
            case LogisticRegression or LinearSvm:
                var z = graph.Dense(x, parameters.AsSpan(0, model.Features + 1), model.Features, 1);
                (output, outputColumns) = model is LogisticRegression ? ("probability", 1) : ("score", 1);
                if (model is LogisticRegression) graph.Node("Sigmoid", [z], output);
                else graph.Node("Identity", [z], output);
                break;
            case FeedForwardModel network:
                x = Network(graph, network, parameters, x);
                (output, outputColumns) = ("probabilities", network.Classes);
                graph.Node("Softmax", [x], output, attributes: Attribute.Int("axis", 1));
                break;
            default:
                throw new UsageException($"ONNX export supports logistic, svm, softmax, mlp and cnn models, not '{model.Type}': export it with --format npy");
        }
        var body = new ProtoWriter();
        foreach (var node in graph.Nodes) body.Message(1, node);                                   // GraphProto.node
        body.String(2, graphName);                                                                  // GraphProto.name
        foreach (var initializer in graph.Initializers) body.Message(5, initializer);              // GraphProto.initializer
        body.Message(11, ValueInfo("input", model.Features));                                       // GraphProto.input
        body.Message(12, ValueInfo(output, outputColumns));                                         // GraphProto.output
        return new ProtoWriter()
            .Int64(1, 8)                                                                            // ModelProto.ir_version
            .String(2, "StepML")                                                                    // producer_name
            .Message(7, body)                                                                       // graph
            .Message(8, new ProtoWriter().String(1, "").Int64(2, 13))                               // opset_import: ai.onnx 13
            .ToArray();
    }

    private static string Network(Graph graph, FeedForwardModel network, float[] parameters, string x)
    {
        var offset = 0;
        var nchw = false;           // whether x is [N, C, H, W] rather than [N, values]
        foreach (var layer in network.Layers)
        {
            var slice = parameters.AsSpan(offset, layer.ParameterCount);
            switch (layer)
            {
                case DenseLayer dense:
                    if (nchw)
                    {
                        // StepML flattens feature maps channels-last: back to NHWC, then [N, H·W·C].
                        x = graph.Node("Transpose", [x], attributes: Attribute.Ints("perm", 0, 2, 3, 1));
                        x = graph.Node("Reshape", [x, graph.Int64s([0, -1])]);
                        nchw = false;
                    }
                    x = graph.Dense(x, slice, dense.InputSize, dense.OutputSize);
                    break;
                case Conv2dLayer conv:
                    if (!nchw)
                    {
                        x = graph.Node("Reshape", [x, graph.Int64s([-1, conv.Height, conv.Width, conv.Channels])]);
                        x = graph.Node("Transpose", [x], attributes: Attribute.Ints("perm", 0, 3, 1, 2));
                        nchw = true;
                    }
                    var (k, c, f) = (conv.Kernel, conv.Channels, conv.Filters);
                    var weights = new float[k * k * c * f];
                    for (var ky = 0; ky < k; ky++)
                        for (var kx = 0; kx < k; kx++)
                            for (var ci = 0; ci < c; ci++)
                                for (var fi = 0; fi < f; fi++)
                                    weights[((fi * c + ci) * k + ky) * k + kx] = slice[((ky * k + kx) * c + ci) * f + fi];
                    var pad = k / 2;
                    x = graph.Node("Conv", [x, graph.Floats(weights, f, c, k, k), graph.Floats(slice.Slice(k * k * c * f, f).ToArray(), f)],
                        attributes: [.. Attribute.Ints("kernel_shape", k, k), .. Attribute.Ints("pads", pad, pad, pad, pad)]);
                    break;
                case ReluLayer:
                    x = graph.Node("Relu", [x]);
                    break;
                case MaxPoolLayer:
                    // Floor mode (ONNX's default) drops an odd last row or column, as StepML's pooling does.
                    x = graph.Node("MaxPool", [x], attributes: [.. Attribute.Ints("kernel_shape", 2, 2), .. Attribute.Ints("strides", 2, 2)]);
                    break;
                default:
                    throw new UsageException($"ONNX export has no mapping for layer {layer.GetType().Name}");
            }
            offset += layer.ParameterCount;
        }
        return x;
    }

    // ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: [N (dim_param=2), columns (dim_value=1)]}}}}
    private static ProtoWriter ValueInfo(string name, int columns) => new ProtoWriter()
        .String(1, name)
        .Message(2, new ProtoWriter().Message(1, new ProtoWriter()
            .Int64(1, FloatType)
            .Message(2, new ProtoWriter()
                .Message(1, new ProtoWriter().String(2, "N"))
                .Message(1, new ProtoWriter().Int64(1, columns)))));

    private static class Attribute
    {
        // AttributeProto: name=1, i=3, ints=8, type=20.
        public static ProtoWriter[] Int(string name, long value) => [new ProtoWriter().String(1, name).Int64(3, value).Int64(20, AttributeInt)];

        public static ProtoWriter[] Ints(string name, params long[] values)
        {
            var attribute = new ProtoWriter().String(1, name);
            foreach (var v in values) attribute.Int64(8, v);
            return [attribute.Int64(20, AttributeInts)];
        }
    }

    private sealed class Graph
    {
        private int _names;
        public List<ProtoWriter> Nodes { get; } = [];
        public List<ProtoWriter> Initializers { get; } = [];

        /// <summary>NodeProto{input=1, output=2, name=3, op_type=4, attribute=5}; returns the output's name.</summary>
        public string Node(string op, string[] inputs, string? output = null, ProtoWriter[]? attributes = null)
        {
            output ??= $"{op.ToLowerInvariant()}_{_names++}";
            var node = new ProtoWriter();
            foreach (var input in inputs) node.String(1, input);
            node.String(2, output).String(3, output).String(4, op);
            foreach (var attribute in attributes ?? []) node.Message(5, attribute);
            Nodes.Add(node);
            return output;
        }

        /// <summary>y = x·W + b with W [inputs, outputs] then b [outputs], as StepML's dense layers store them.</summary>
        public string Dense(string x, ReadOnlySpan<float> parameters, int inputs, int outputs)
        {
            var product = Node("MatMul", [x, Floats(parameters[..(inputs * outputs)].ToArray(), inputs, outputs)]);
            return Node("Add", [product, Floats(parameters.Slice(inputs * outputs, outputs).ToArray(), outputs)]);
        }

        /// <summary>TensorProto{dims=1, data_type=2, name=8, raw_data=9 (little-endian)}.</summary>
        public string Floats(float[] values, params long[] dims) => Initializer(MemoryMarshal.AsBytes(values.AsSpan()), FloatType, dims);

        public string Int64s(long[] values) => Initializer(MemoryMarshal.AsBytes(values.AsSpan()), Int64Type, values.Length);

        private string Initializer(ReadOnlySpan<byte> raw, int type, params long[] dims)
        {
            var name = $"w{_names++}";
            var tensor = new ProtoWriter();
            foreach (var d in dims) tensor.Int64(1, d);
            Initializers.Add(tensor.Int64(2, type).String(8, name).Bytes(9, raw));
            return name;
        }
    }
}
