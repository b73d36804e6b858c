using StepML.Core.Data;
using static StepML.Cli.Tests.Commands.Cli;

namespace StepML.Cli.Tests.Commands;

/// <summary><c>stepml search</c> through the real command line: a spec naming a local job file, and bad specs.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class SearchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepml-search-cli-").FullName;
    private string Store => Path.Combine(_dir, "store");

    public SearchCommandTests()
    {
        using (var writer = new StreamWriter(Path.Combine(_dir, "rows.libsvm")))
            SyntheticData.WriteHiggsLike(writer, 4_000, 8, seed: 3);
        File.WriteAllText(Path.Combine(_dir, "job.json"), """
            {"name": "cli", "dataset": {"path": "rows.libsvm", "partitions": 2}, "algorithm": {"type": "admm"}, "stop": {"maxRounds": 3, "tolerance": 0}}
            """);
        File.WriteAllText(Path.Combine(_dir, "empty.json"), "");
    }

    private string Spec(string body)
    {
        var path = Path.Combine(_dir, "search.json");
        File.WriteAllText(path, body);
        return path;
    }

    [Fact]
    public async Task Search_LocalJobFile_ImportsDataPrintsTableAndBest()
    {
        var spec = Spec("""{"name": "cli-sh", "job": "job.json", "parameters": {"algorithm.rho": [0.01, 0.1, 1]}, "strategy": "successive-halving", "budget": {"rounds": 3}}""");

        var (code, output, error) = await RunAsync("search", spec, "--store", Store);

        Assert.True(code == 0, error);
        Assert.Contains("copied rows.libsvm into the store as datasets/rows.libsvm", output);
        Assert.Contains("search cli-sh: 3 trials (successive-halving), rungs of 1, 3 rounds", output);
        Assert.Contains("rung 1  trial", output);
        Assert.Contains("<- best", output);
        Assert.Matches(@"best: trial \d \(algorithm.rho=[0-9.]+\) validation loss [0-9.]+ after 3 rounds", output);
        Assert.Matches(@"report \S*searches/cli-sh-[0-9-]+-[0-9a-f]{4}/report.html", output);
    }

    [Theory]
    [InlineData("""{"job": "job.json", "parameters": {"algorithm.rho": [0.1, -2]}}""", "search.json: search spec field 'parameters.algorithm.rho': value -2")]
    [InlineData("""{"job": "nope.json", "parameters": {"algorithm.rho": [0.1]}}""", "search spec field 'job': 'nope.json' is neither a file")]
    [InlineData("""{"job": "job.json", "parameters": {"algorithm.rho": [0.1]}, "budgett": {}}""", "'budgett': is not a search spec field: did you mean 'budget'?")]
    [InlineData("""{"job": "job.json", "parameters": """, "search.json: search spec field '$': not valid JSON (line 1, byte")]
    [InlineData("""{"job": "empty.json", "parameters": {"algorithm.rho": [0.1]}}""", "search.json: search spec field 'job': empty.json: not valid JSON: the file is empty")]
    public async Task Search_BadSpec_ExitsTwoNamingFileAndField(string body, string message)
    {
        var (code, _, error) = await RunAsync("search", Spec(body), "--store", Store);

        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Equal(1, error.Split("stepml:").Length - 1);
        Assert.Equal(1, error.Split("search spec field '").Length - 1);
        Assert.DoesNotContain("LineNumber:", error);
        Assert.False(Directory.Exists(Path.Combine(Store, "runs")));
    }

    [Fact]
    public async Task Search_Help_ListsOptions()
    {
        var (code, output, _) = await RunAsync("search", "--help");

        Assert.Equal(0, code);
        foreach (var option in new[] { "SEARCH.json", "--store", "--quiet", "--concurrency", "--ledger" }) Assert.Contains(option, output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
