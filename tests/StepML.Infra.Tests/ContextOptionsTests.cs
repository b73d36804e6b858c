using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using StepML.Infra;

namespace StepML.Infra.Tests;

public sealed class ContextOptionsTests
{
    private static InfraSettings Read(Dictionary<string, object> context) =>
        InfraSettings.FromContext(new App(new AppProps { Context = context }));

    [Fact]
    public void FromContext_Nothing_UsesDocumentedDefaults()
    {
        var settings = Read([]);

        Assert.Equal(Architecture.X86_64.Name, settings.Architecture.Name);
        Assert.Equal(240, settings.TimeoutSeconds["Worker"]);
        Assert.Equal(2048, settings.MemoryMb["Worker"]);
        Assert.Equal(100, settings.MaxConcurrency);
        Assert.Equal(0, settings.ToleratedFailurePercentage);
        Assert.Equal(RetentionDays.ONE_MONTH, settings.LogRetention);
        Assert.Equal(7, settings.StatisticsExpiryDays);
    }

    [Fact]
    public void FromContext_StringsAsTheCliPassesThem_AreParsed()
    {
        var settings = Read(new()
        {
            ["stepml:architecture"] = "arm64",
            ["stepml:workerMemoryMb"] = "3008",
            ["stepml:mergeTimeoutSeconds"] = "45",
            ["stepml:maxConcurrency"] = "20",
            ["stepml:toleratedFailurePercentage"] = "10",
            ["stepml:logRetentionDays"] = "14",
            ["stepml:statisticsExpiryDays"] = "2",
        });

        Assert.Equal(Architecture.ARM_64.Name, settings.Architecture.Name);
        Assert.Equal(3008, settings.MemoryMb["Worker"]);
        Assert.Equal(45, settings.TimeoutSeconds["Merge"]);
        Assert.Equal(20, settings.MaxConcurrency);
        Assert.Equal(10, settings.ToleratedFailurePercentage);
        Assert.Equal(RetentionDays.TWO_WEEKS, settings.LogRetention);
        Assert.Equal(2, settings.StatisticsExpiryDays);
    }

    [Fact]
    public void FromContext_NumbersAsCdkJsonGivesThem_AreParsed()
    {
        var settings = Read(new() { ["stepml:prepareMemoryMb"] = 4096, ["stepml:decideTimeoutSeconds"] = 30.0 });

        Assert.Equal(4096, settings.MemoryMb["Prepare"]);
        Assert.Equal(30, settings.TimeoutSeconds["Decide"]);
    }

    [Theory]
    [InlineData("stepml:architecture", "x64", "x86_64 or arm64")]
    [InlineData("stepml:workerTimeoutSeconds", "241", "from 1 to 240")]
    [InlineData("stepml:prepareTimeoutSeconds", "900", "Prepare state's TimeoutSeconds")]
    [InlineData("stepml:workerMemoryMb", "64", "from 128 to 10240")]
    [InlineData("stepml:toleratedFailurePercentage", "101", "from 0 to 100")]
    [InlineData("stepml:maxConcurrency", "many", "whole number")]
    [InlineData("stepml:logRetentionDays", "10", "one of 1, 3, 5")]
    public void FromContext_InvalidValue_ThrowsNamingTheKeyAndTheValidValues(string key, string value, string hint)
    {
        var error = Assert.Throws<ArgumentException>(() => Read(new() { [key] = value }));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextKeys_EveryFunction_HasMemoryAndTimeoutKeys()
    {
        var keys = FunctionCatalog.All.SelectMany(f => new[] { InfraSettings.MemoryKey(f), InfraSettings.TimeoutKey(f) }).ToList();

        Assert.Contains("stepml:workerTimeoutSeconds", keys);
        Assert.Contains("stepml:recordFailureMemoryMb", keys);
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void CdkJson_ContextKeys_AreAllUnderstood()
    {
        var root = RepositoryLayout.FindRoot(AppContext.BaseDirectory);
        using var cdkJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "cdk.json")));
        var known = FunctionCatalog.All.SelectMany(f => new[] { InfraSettings.MemoryKey(f), InfraSettings.TimeoutKey(f) })
            .Concat([InfraSettings.ArchitectureKey, InfraSettings.MaxConcurrencyKey, InfraSettings.ToleratedFailurePercentageKey,
                InfraSettings.LogRetentionDaysKey, InfraSettings.StatisticsExpiryDaysKey])
            .ToHashSet();

        Assert.Equal("dotnet run --project infra/StepML.Infra", cdkJson.RootElement.GetProperty("app").GetString());
        var stepmlKeys = cdkJson.RootElement.GetProperty("context").EnumerateObject().Select(p => p.Name)
            .Where(k => k.StartsWith(InfraSettings.Prefix, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(stepmlKeys);
        Assert.All(stepmlKeys, k => Assert.Contains(k, known));
    }
}
