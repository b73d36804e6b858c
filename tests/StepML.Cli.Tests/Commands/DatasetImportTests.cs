using StepML.Cli.Commands;
using StepML.Storage;

namespace StepML.Cli.Tests.Commands;

/// <summary>Importing a local file never replaces a different dataset already in the store.</summary>
public sealed class DatasetImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-import-").FullName;
    private readonly FileObjectStore _store;

    public DatasetImportTests() => _store = new FileObjectStore(Path.Combine(_dir, "store"));

    private string Local(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private Task<DatasetImport?> ImportAsync(string name) => RunCommand.ImportLocalDatasetAsync(_store, name, _dir, CancellationToken.None);

    [Fact]
    public async Task Import_NewName_CopiesToDatasetsKey()
    {
        Local("train.libsvm", "1 1:1\n");

        var import = await ImportAsync("train.libsvm");

        Assert.Equal("datasets/train.libsvm", import!.Key);
        Assert.True(import.Copied);
        Assert.Equal("1 1:1\n", System.Text.Encoding.ASCII.GetString(await _store.GetAsync("datasets/train.libsvm")));
    }

    [Fact]
    public async Task Import_SameBytesAgain_ReusesTheKeyWithoutCopying()
    {
        Local("train.libsvm", "1 1:1\n");
        await ImportAsync("train.libsvm");

        var again = await ImportAsync("train.libsvm");

        Assert.Equal("datasets/train.libsvm", again!.Key);
        Assert.False(again.Copied);
        Assert.Contains("same bytes", again.Describe("train.libsvm"));
    }

    [Fact]
    public async Task Import_DifferentFileSameName_KeepsTheStoredOneAndUsesADigestKey()
    {
        await _store.PutAsync("datasets/train.libsvm", "0 1:9\n"u8.ToArray());
        Local("train.libsvm", "1 1:1\n");

        var import = await ImportAsync("train.libsvm");

        Assert.Matches(@"^datasets/train-[0-9a-f]{12}\.libsvm$", import!.Key);
        Assert.Contains("left alone", import.Describe("train.libsvm"));
        Assert.Equal("0 1:9\n"u8.ToArray(), await _store.GetAsync("datasets/train.libsvm"));
        Assert.Equal("1 1:1\n"u8.ToArray(), await _store.GetAsync(import.Key));
        var third = await ImportAsync("train.libsvm");
        Assert.Equal(import.Key, third!.Key);
        Assert.False(third.Copied);
    }

    [Fact]
    public async Task Import_SameSizeDifferentBytes_IsNotTakenForTheSame()
    {
        await _store.PutAsync("datasets/train.libsvm", "0 1:9\n"u8.ToArray());
        Local("train.libsvm", "1 1:9\n");

        var import = await ImportAsync("train.libsvm");

        Assert.NotEqual("datasets/train.libsvm", import!.Key);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
