using StepML.Cli.Bench;

namespace StepML.Cli.Tests.Bench;

/// <summary>The channel benchmark against its real local servers: every channel measured (none skipped where CI has
/// redis-server and dynalite), request counts exact where a call is one request. Times are not asserted.</summary>
public sealed class ChannelBenchmarkTests
{
    [Fact]
    public async Task RunAsync_TwoSizes_MeasuresEveryChannelWithTheDesignsRequestCounts()
    {
        var document = await ChannelBenchmark.RunAsync([10_000, 100_000], workers: 3, shards: 2, rounds: 2, TextWriter.Null);

        Assert.Contains("compare requests and bytes, not seconds", document["caution"]!.GetValue<string>());
        var results = document["results"]!.AsArray();
        Assert.All(results, r => Assert.Null(r!["skipped"]));
        Assert.Equal(["s3", "s3", "redis", "redis", "dynamodb", "dynamodb"], results.Select(r => r!["channel"]!.GetValue<string>()));
        foreach (var r in results)
        {
            var n = r!["parameters"]!.GetValue<int>();
            // 3 statistic writes, 2 × 3 ranged reads, 2 shard writes, 2 shard reads; Redis adds one DEL per round.
            var expected = r["channel"]!.GetValue<string>() switch { "s3" => 13, "redis" => 14, _ => -1 };
            var requests = r["requestsPerRound"]!.GetValue<double>();
            if (expected > 0) Assert.Equal(expected, requests);
            else Assert.True(requests > 13, $"dynamodb: {requests} requests per round; chunked writes and paged queries make more than 13");
            Assert.True(r["secondsPerRound"]!.GetValue<double>() > 0);
            // Every statistic's bytes are written once (4 n bytes plus block checksums and the header).
            Assert.InRange(r["megabytesWrittenPerRound"]!.GetValue<double>(), (3 + 1) * 4.0 * n / 1e6, (3 + 1) * 4.1 * n / 1e6 + 0.001);
        }
    }
}
