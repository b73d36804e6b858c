using System.Globalization;

namespace StepML.Core.Jobs;

/// <summary>The values of <c>communication.channel</c>: where statistics and merged shards travel (LambdaML §3.2).</summary>
public static class ChannelKinds
{
    /// <summary>The run's object store: S3 in the cloud, the local folder locally.</summary>
    public const string ObjectStore = "s3";
    public const string Redis = "redis";
    public const string DynamoDb = "dynamodb";
    public static readonly string[] All = [ObjectStore, Redis, DynamoDb];
}

/// <summary>
/// Where a channel's server is, parsed from <c>communication.endpoint</c>:
/// <list type="bullet">
/// <item>redis: <c>host:port</c>, or <c>rediss://host:port</c> for TLS (ElastiCache Serverless requires it);</item>
/// <item>dynamodb: a table name (the SDK's regional endpoint), or <c>http[s]://host:port/table</c> for another server
/// (dynalite, DynamoDB Local);</item>
/// <item>s3: empty, the run's own store.</item>
/// </list>
/// An empty endpoint for redis or dynamodb means the deployment's default (an environment variable the stack sets).
/// </summary>
public sealed record ChannelEndpoint(string Kind, string Host, int Port, bool Tls, Uri? ServiceUrl, string Table)
{
    public static readonly ChannelEndpoint ObjectStore = new(ChannelKinds.ObjectStore, "", 0, false, null, "");

    /// <summary>Parses <paramref name="text"/> for <paramref name="kind"/>; a bad value is a
    /// <see cref="JobSpecException"/> on <c>communication.endpoint</c> that says the expected form.</summary>
    public static ChannelEndpoint Parse(string kind, string text)
    {
        const string Field = "communication.endpoint";
        switch (kind)
        {
            case ChannelKinds.ObjectStore:
                if (text.Length > 0)
                    throw new JobSpecException(Field, $"'{text}': the s3 channel uses the run's own store; leave the endpoint out (or choose channel \"redis\" or \"dynamodb\")");
                return ObjectStore;
            case ChannelKinds.Redis:
                return ParseRedis(text, Field);
            case ChannelKinds.DynamoDb:
                return ParseDynamoDb(text, Field);
            default:
                throw new JobSpecException("communication.channel", $"'{kind}' is not one of {string.Join(", ", ChannelKinds.All.Select(a => $"\"{a}\""))}");
        }
    }

    private static ChannelEndpoint ParseRedis(string text, string field)
    {
        var tls = text.StartsWith("rediss://", StringComparison.Ordinal);
        var rest = tls ? text["rediss://".Length..] : text.StartsWith("redis://", StringComparison.Ordinal) ? text["redis://".Length..] : text;
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || !ValidHost(rest[..colon]))
            throw new JobSpecException(field, $"'{text}' is not a Redis server: write host:port (e.g. \"127.0.0.1:6379\"), or rediss://host:port for TLS");
        return new ChannelEndpoint(ChannelKinds.Redis, rest[..colon], port, tls, null, "");
    }

    private static ChannelEndpoint ParseDynamoDb(string text, string field)
    {
        const string Form = "write a table name (e.g. \"stepml-channel\"), or http://host:port/table for a local server such as dynalite";
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            if (!ValidTable(text)) throw new JobSpecException(field, $"'{text}' is not a DynamoDB table name (3–255 characters A-Z a-z 0-9 _ . -): {Form}");
            return new ChannelEndpoint(ChannelKinds.DynamoDb, "", 0, false, null, text);
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !ValidHost(uri.Host) || uri.Query.Length > 0)
            throw new JobSpecException(field, $"'{text}' is not a DynamoDB server URL: {Form}");
        var table = uri.AbsolutePath.Trim('/');
        if (!ValidTable(table)) throw new JobSpecException(field, $"'{text}' names no valid table after the server ('{table}'): {Form}");
        return new ChannelEndpoint(ChannelKinds.DynamoDb, uri.Host, uri.Port, uri.Scheme == "https", new Uri(uri.GetLeftPart(UriPartial.Authority)), table);
    }

    private static bool ValidHost(string host) =>
        host.Length is > 0 and <= 253 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '[' or ']' or ':');

    private static bool ValidTable(string table) =>
        table.Length is >= 3 and <= 255 && table.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>How the endpoint is written in the job spec (and in error messages).</summary>
    public override string ToString() => Kind switch
    {
        ChannelKinds.Redis => $"{(Tls ? "rediss://" : "")}{Host}:{Port.ToString(CultureInfo.InvariantCulture)}",
        ChannelKinds.DynamoDb => ServiceUrl is null ? Table : $"{ServiceUrl.GetLeftPart(UriPartial.Authority)}/{Table}",
        _ => "the run's object store",
    };
}
