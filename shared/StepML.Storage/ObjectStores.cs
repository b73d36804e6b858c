namespace StepML.Storage;

/// <summary>Which store a URI means. <c>file://PATH</c> (or a bare path) is the local folder store;
/// <c>s3://bucket/prefix</c> is S3 (see <c>S3ObjectStore</c>).</summary>
public static class ObjectStores
{
    public const string DefaultFolder = ".stepml";

    public static IObjectStore Open(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        if (FolderOf(uri) is { } folder) return new FileObjectStore(folder);
        if (uri.StartsWith("s3://", StringComparison.Ordinal))
            return OpenS3(uri);
        throw new ArgumentException($"store URI '{uri}' has an unknown scheme: use file://PATH or s3://BUCKET[/PREFIX]");
    }

    /// <summary>The local folder a store URI names (<c>file://PATH</c>, or a plain path); null for any other scheme.</summary>
    public static string? FolderOf(string uri) =>
        uri.StartsWith("file://", StringComparison.Ordinal) ? uri["file://".Length..]
        : uri.Contains("://", StringComparison.Ordinal) ? null
        : uri;

    private static IObjectStore OpenS3(string uri) =>
        new S3.S3ObjectStore(S3.S3StoreLocation.Parse(uri, Environment.GetEnvironmentVariable(S3.S3StoreLocation.EndpointVariable)));
}
