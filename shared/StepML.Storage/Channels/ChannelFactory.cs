using StepML.Core.Jobs;

namespace StepML.Storage.Channels;

/// <summary>What a deployment provides when a job names no endpoint: the stack's Redis cache and DynamoDB table (read
/// once from the environment at the handler edge), and how long channel keys live.</summary>
/// <param name="RedisEndpoint">STEPML_REDIS_ENDPOINT: <c>rediss://host:port</c> of the stack's cache (set with
/// <c>-c stepml:redis=true</c>).</param>
/// <param name="DynamoDbEndpoint">STEPML_CHANNEL_TABLE: the stack's channel table (or <c>http://host:port/table</c>).</param>
/// <param name="TimeToLive">STEPML_CHANNEL_TTL_HOURS: expiry of Redis keys and DynamoDB items (default 24 h).</param>
public sealed record ChannelDefaults(string RedisEndpoint = "", string DynamoDbEndpoint = "", TimeSpan? TimeToLive = null)
{
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromHours(24);

    public TimeSpan Ttl => TimeToLive ?? DefaultTimeToLive;
}

/// <summary>Maps <c>communication.channel</c> and <c>communication.endpoint</c> to the channel class.</summary>
public static class ChannelFactory
{
    public static IChannel Open(CommunicationSpec communication, IObjectStore store, ChannelDefaults defaults)
    {
        var endpoint = Resolve(communication, defaults);
        return endpoint.Kind switch
        {
            ChannelKinds.ObjectStore => new ObjectStoreChannel(store),
            ChannelKinds.Redis => new RedisChannel(endpoint, defaults.Ttl),
            // A local server (dynalite) gets the table on first write; in the cloud the stack owns it.
            ChannelKinds.DynamoDb => new DynamoDbChannel(endpoint, defaults.Ttl) { CreatesMissingTable = IsLoopback(endpoint.ServiceUrl) },
            _ => throw new ChannelConfigurationException($"communication.channel '{communication.Channel}' is not one of {string.Join(", ", ChannelKinds.All)}"),
        };
    }

    private static bool IsLoopback(Uri? url) =>
        url is not null && (url.IsLoopback || (System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip)));

    /// <summary>The job's endpoint, or the deployment's default for its channel; a channel with neither is a
    /// <see cref="ChannelConfigurationException"/> that says how to name one.</summary>
    public static ChannelEndpoint Resolve(CommunicationSpec communication, ChannelDefaults defaults)
    {
        var text = communication.Endpoint;
        if (text.Length == 0)
        {
            (text, var variable) = communication.Channel switch
            {
                ChannelKinds.Redis => (defaults.RedisEndpoint, "STEPML_REDIS_ENDPOINT"),
                ChannelKinds.DynamoDb => (defaults.DynamoDbEndpoint, "STEPML_CHANNEL_TABLE"),
                _ => ("", ""),
            };
            if (text.Length == 0 && variable.Length > 0)
                throw new ChannelConfigurationException(
                    $"communication.channel is \"{communication.Channel}\" but the job sets no communication.endpoint and this deployment no {variable}: " +
                    (communication.Channel == ChannelKinds.Redis
                        ? "name the server (\"127.0.0.1:6379\"), or deploy with -c stepml:redis=true"
                        : "name the table (\"my-table\", or \"http://127.0.0.1:4567/my-table\" for dynalite)"));
        }
        try
        {
            return ChannelEndpoint.Parse(communication.Channel, text);
        }
        catch (JobSpecException e) when (communication.Endpoint.Length == 0)
        {
            throw new ChannelConfigurationException($"the deployment's default endpoint for the {communication.Channel} channel is invalid: {e.Message}", e);
        }
    }
}
