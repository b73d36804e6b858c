using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Core.Tensors;

namespace StepML.Cli.Bench;

/// <summary>Tensor codec throughput: <see cref="TensorCodec.Encode(ReadOnlySpan{float}, ReadOnlySpan{int}, long, int, Span{byte})"/>
/// and <see cref="TensorCodec.Decode(ReadOnlySpan{byte}, string, Span{float}, out TensorHeader)"/> of one float tensor
/// (default block size, so every block's CRC32C is computed or verified) into preallocated buffers, as a worker or
/// merger does once its buffers are warm. GB/s counts the tensor's payload bytes (4 per float).</summary>
internal static class CodecBenchmark
{
    public const double TargetGigabytesPerSecond = 2;

    public static JsonObject Run(int megabytes, int repetitions)
    {
        var elements = megabytes * (1 << 20) / sizeof(float);
        var values = new float[elements];
        var random = new Xoshiro256(7);
        for (var i = 0; i < values.Length; i++) values[i] = random.NextFloat() - 0.5f;
        var encoded = new byte[TensorCodec.EncodedSize(elements, TensorCodec.MaxBlockElements)];
        var decoded = new float[elements];
        int[] shape = [elements];

        var writeTiming = Measure.Best(repetitions, () => TensorCodec.Encode(values, shape, 1, TensorCodec.MaxBlockElements, encoded));
        var readTiming = Measure.Best(repetitions, () => TensorCodec.Decode(encoded, "bench.tensor", decoded, out _));
        double write = writeTiming.Seconds, read = readTiming.Seconds;
        if (!values.AsSpan().SequenceEqual(decoded))
            throw new InvalidOperationException("the tensor codec benchmark decoded different values than it encoded");
        var bytes = (double)elements * sizeof(float);
        var writeGbs = bytes / write / 1e9;
        var readGbs = bytes / read / 1e9;
        return new JsonObject
        {
            ["payloadBytes"] = (long)bytes,
            ["encodedBytes"] = encoded.LongLength,
            ["repetitions"] = repetitions,
            ["writeBestSeconds"] = Measure.Round(write, 6),
            ["readBestSeconds"] = Measure.Round(read, 6),
            ["writeBestWallSeconds"] = Measure.Round(writeTiming.WallSeconds, 6),
            ["readBestWallSeconds"] = Measure.Round(readTiming.WallSeconds, 6),
            ["writeGigabytesPerSecond"] = Measure.Round(writeGbs, 3),
            ["readGigabytesPerSecond"] = Measure.Round(readGbs, 3),
            ["targetGigabytesPerSecond"] = TargetGigabytesPerSecond,
            ["meetsTarget"] = writeGbs >= TargetGigabytesPerSecond && readGbs >= TargetGigabytesPerSecond,
        };
    }
}
