using System.Text.RegularExpressions;

namespace StepML.Storage.S3;

/// <summary>A parsed <c>s3://bucket[/prefix][?endpoint=http://host:port]</c> store URI. The prefix is
/// prepended to every key; the endpoint (from the URI, else <c>STEPML_S3_ENDPOINT</c>) selects an
/// S3-compatible server instead of AWS.</summary>
public sealed partial record S3StoreLocation(string Bucket, string Prefix, Uri? Endpoint)
{
    public const string Scheme = "s3://";
    public const string EndpointVariable = "STEPML_S3_ENDPOINT";

    // S3's rules for new bucket names: 3-63 characters, lower-case letters, digits, dots and hyphens.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();

    /// <param name="uri">The store URI.</param>
    /// <param name="environmentEndpoint">The value of <see cref="EndpointVariable"/>, read by the caller at its edge;
    /// the URI's own <c>endpoint</c> parameter wins over it.</param>
    public static S3StoreLocation Parse(string uri, string? environmentEndpoint = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        if (!uri.StartsWith(Scheme, StringComparison.Ordinal))
            throw new ArgumentException($"store URI '{uri}' is not an S3 URI: use s3://BUCKET[/PREFIX][?endpoint=URL]");

        var rest = uri[Scheme.Length..];
        string? query = null;
        var question = rest.IndexOf('?');
        if (question >= 0)
        {
            query = rest[(question + 1)..];
            rest = rest[..question];
        }
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
            throw new ArgumentException(
                $"store URI '{uri}': bucket '{bucket}' is not a valid S3 bucket name (3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit)");
        if (prefix.Length > 0)
            ObjectKey.Validate(prefix, $"store URI '{uri}': prefix");

        var endpointText = environmentEndpoint;
        if (query is not null)
        {
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                var name = equals < 0 ? pair : pair[..equals];
                if (name != "endpoint")
                    throw new ArgumentException($"store URI '{uri}': unknown parameter '{name}'; the only one is 'endpoint' (e.g. ?endpoint=http://127.0.0.1:4568)");
                endpointText = System.Uri.UnescapeDataString(equals < 0 ? "" : pair[(equals + 1)..]);
            }
        }

        Uri? endpoint = null;
        if (!string.IsNullOrEmpty(endpointText))
        {
            if (!System.Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https"))
                throw new ArgumentException(
                    $"store URI '{uri}': endpoint '{endpointText}' is not an http(s) URL (from {(query is null ? EndpointVariable : "the URI")})");
        }
        return new S3StoreLocation(bucket, prefix, endpoint);
    }

    /// <summary>The S3 key for a store key: the prefix, a slash, the key.</summary>
    public string FullKey(string key) => Prefix.Length == 0 ? key : Prefix + "/" + key;

    public override string ToString() =>
        Scheme + Bucket + (Prefix.Length == 0 ? "" : "/" + Prefix)
        + (Endpoint is null ? "" : "?endpoint=" + Endpoint.OriginalString);
}
