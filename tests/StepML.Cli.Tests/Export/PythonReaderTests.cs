using System.Diagnostics;
using System.Globalization;
using StepML.Cli.Export;
using StepML.Core.Data;
using StepML.Core.Models;
using StepML.Core.Models.Neural;
using StepML.Core.Tensors;

namespace StepML.Cli.Tests.Export;

/// <summary>The README's Python reader (examples/smlt_reader.py, quoted in the README verbatim) against real tensor
/// files, with python3 and Debian's numpy; and the .npy files export writes, loaded by numpy.</summary>
public sealed class PythonReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-python-").FullName;

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "examples", "smlt_reader.py"))) return dir.FullName;
        throw new FileNotFoundException("examples/smlt_reader.py not found above the test binary");
    }

    // Debian's python3, which has Debian's numpy (a pyenv or venv python3 earlier on PATH may not).
    private static string PythonPath => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private static string Python(string script, params string[] args)
    {
        var start = new ProcessStartInfo(PythonPath) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PYTHONPATH"] = Path.Combine(Repository(), "examples");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python3 failed: {error}");
        return output.Result;
    }

    private static float[] Values(string printed) =>
        printed.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private const string PrintTensor = "import sys; from smlt_reader import read_smlt; a, r = read_smlt(sys.argv[1]); print(r, *a.shape); print(' '.join(repr(float(v)) for v in a.ravel()))";

    [Theory]
    [InlineData(29)]          // one block
    [InlineData(40_000)]      // three blocks: where a naive read mixes checksums into the values
    public void ReadSmlt_RealTensorFile_GivesTheValuesTheCodecDecodes(int count)
    {
        var values = new float[count];
        var random = new Xoshiro256(3);
        for (var i = 0; i < count; i++) values[i] = (float)random.NextGaussian();
        var path = Path.Combine(_dir, "m.tensor");
        File.WriteAllBytes(path, TensorCodec.Encode(values, [count], round: 17));

        var lines = Python(PrintTensor, path).Split('\n');

        Assert.Equal($"17 {count}", lines[0]);
        Assert.Equal(values, Values(lines[1]));
    }

    [Fact]
    public void ReadSmlt_FlippedBitInSecondBlock_RaisesChecksumError()
    {
        var path = Path.Combine(_dir, "bad.tensor");
        var bytes = TensorCodec.Encode(new float[20_000], [20_000], 1);
        bytes[64 + 4 * 16_384 + 4 + 10] ^= 1;
        File.WriteAllBytes(path, bytes);

        var start = new ProcessStartInfo(PythonPath, ["-c", PrintTensor, path]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["PYTHONPATH"] = Path.Combine(Repository(), "examples");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("block 1 checksum mismatch", error);
    }

    [Fact]
    public void NpyExport_MlpParameters_NumpyLoadsEachTensorWithItsShape()
    {
        var model = NeuralModels.Mlp(130, [128], 10);      // 18,058 parameters: more than one block
        var parameters = new float[model.ParameterCount];
        model.Initialize(parameters, 5);
        foreach (var tensor in ParameterLayout.Of(model))
            File.WriteAllBytes(Path.Combine(_dir, tensor.Name + ".npy"), NpyWriter.Float32(parameters.AsSpan(tensor.Offset, tensor.Length), tensor.Shape));

        var printed = Python("import sys, numpy as np\nfor n in sys.argv[1:]:\n a = np.load(n); print(n, *a.shape); print(' '.join(repr(float(v)) for v in a.ravel()))",
            [.. ParameterLayout.Of(model).Select(t => Path.Combine(_dir, t.Name + ".npy"))]).Split('\n');

        var layout = ParameterLayout.Of(model);
        Assert.Equal(["dense0.weight", "dense0.bias", "dense1.weight", "dense1.bias"], layout.Select(t => t.Name));
        for (var i = 0; i < layout.Count; i++)
        {
            Assert.EndsWith($"{layout[i].Name}.npy {string.Join(' ', layout[i].Shape)}", printed[2 * i]);
            Assert.Equal(parameters.AsSpan(layout[i].Offset, layout[i].Length).ToArray(), Values(printed[2 * i + 1]));
        }
    }

    [Fact]
    public void Readme_QuotesTheReaderVerbatim()
    {
        var readme = File.ReadAllText(Path.Combine(Repository(), "README.md"));
        var reader = File.ReadAllText(Path.Combine(Repository(), "examples", "smlt_reader.py"));
        Assert.Contains(reader.Trim(), readme);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
