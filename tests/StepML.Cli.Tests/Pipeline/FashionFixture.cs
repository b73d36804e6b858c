using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using StepML.Core.Data;
using StepML.Storage;

namespace StepML.Cli.Tests.Pipeline;

/// <summary>
/// A small Fashion-MNIST: the first 6,000 training and 1,000 test images of the installed package
/// (apt-get install dataset-fashion-mnist; .ci/run installs it), rewritten as IDX files (training gzipped, test plain,
/// so both paths run). On a machine without the package the images are generated: ten noisy stroke patterns, easier
/// than Fashion-MNIST, so the same accuracy bounds hold.
/// </summary>
public sealed class FashionFixture : IDisposable
{
    /// <summary>STEPML_FASHION_DIR overrides it (a missing folder exercises the generated-images path).</summary>
    public static readonly string InstalledDirectory = Environment.GetEnvironmentVariable("STEPML_FASHION_DIR") ?? "/usr/share/datasets/fashion-mnist";
    public const int TrainRows = 6000;
    public const int TestRows = 1000;

    public FashionFixture()
    {
        Root = Directory.CreateTempSubdirectory("stepml-fashion-").FullName;
        Installed = File.Exists(Path.Combine(InstalledDirectory, "train-images-idx3-ubyte.gz"));
        var (trainImages, trainLabels) = Installed ? Subset("train", TrainRows) : Generate(TrainRows, seed: 1);
        var (testImages, testLabels) = Installed ? Subset("t10k", TestRows) : Generate(TestRows, seed: 2);
        Files["datasets/train-images-idx3-ubyte.gz"] = Gzip(Idx(trainImages, TrainRows, 28, 28));
        Files["datasets/train-labels-idx1-ubyte.gz"] = Gzip(Idx(trainLabels, TrainRows));
        Files["datasets/t10k-images-idx3-ubyte"] = Idx(testImages, TestRows, 28, 28);
        Files["datasets/t10k-labels-idx1-ubyte"] = Idx(testLabels, TestRows);
    }

    public string Root { get; }
    public bool Installed { get; }
    public Dictionary<string, byte[]> Files { get; } = [];

    public FileObjectStore NewStore()
    {
        var store = new FileObjectStore(Directory.CreateTempSubdirectory("fashion-store-").FullName);
        foreach (var (key, bytes) in Files) store.PutAsync(key, bytes).GetAwaiter().GetResult();
        return store;
    }

    public static JsonObject Job(string model, JsonObject algorithm, int maxRounds, JsonObject? modelExtra = null, double validationFraction = 0.05)
    {
        var m = new JsonObject { ["type"] = model, ["l2"] = 0 };
        foreach (var (k, v) in modelExtra ?? []) m[k] = v?.DeepClone();
        return new JsonObject
        {
            ["name"] = "fashion-" + model,
            ["runId"] = "fashion-" + model,
            ["dataset"] = new JsonObject
            {
                ["path"] = "datasets/train-images-idx3-ubyte.gz",
                ["labels"] = "datasets/train-labels-idx1-ubyte.gz",
                ["testPath"] = "datasets/t10k-images-idx3-ubyte",
                ["testLabels"] = "datasets/t10k-labels-idx1-ubyte",
                ["partitions"] = 8,
                ["validationFraction"] = validationFraction,
            },
            ["model"] = m,
            ["algorithm"] = algorithm,
            ["stop"] = new JsonObject { ["maxRounds"] = maxRounds, ["tolerance"] = 0 },
            ["seed"] = 3,
        };
    }

    private static (byte[] Images, byte[] Labels) Subset(string prefix, int rows)
    {
        static byte[] Body(string file, int headerBytes, int bytes)
        {
            using var gz = new GZipStream(File.OpenRead(Path.Combine(InstalledDirectory, file)), CompressionMode.Decompress);
            var buffer = new byte[headerBytes + bytes];
            gz.ReadExactly(buffer);
            return buffer[headerBytes..];
        }
        return (Body($"{prefix}-images-idx3-ubyte.gz", 16, rows * 784), Body($"{prefix}-labels-idx1-ubyte.gz", 8, rows));
    }

    // Class c: a bar whose angle and position depend on c, on a noisy background.
    private static (byte[] Images, byte[] Labels) Generate(int rows, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var images = new byte[rows * 784];
        var labels = new byte[rows];
        for (var r = 0; r < rows; r++)
        {
            var c = rng.NextInt(10);
            labels[r] = (byte)c;
            var image = images.AsSpan(r * 784, 784);
            for (var i = 0; i < 784; i++) image[i] = (byte)rng.NextInt(60);
            var angle = Math.PI * c / 10;
            var shift = rng.NextInt(5) - 2;
            for (var t = -10; t <= 10; t++)
            {
                var x = 14 + shift + (int)Math.Round(t * Math.Cos(angle));
                var y = 14 + (int)Math.Round(t * Math.Sin(angle));
                if (x is >= 0 and < 28 && y is >= 0 and < 28) image[y * 28 + x] = (byte)(180 + rng.NextInt(76));
            }
        }
        return (images, labels);
    }

    internal static byte[] Idx(byte[] data, params int[] dims)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
        return output.ToArray();
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
