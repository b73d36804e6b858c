using StepML.Storage.Channels;

namespace StepML.Storage.Tests.Channels;

/// <summary>Debian's redis-server on a free loopback port, its working folder a temporary one, without persistence.</summary>
public sealed class RedisServerFixture : IDisposable
{
    private readonly LocalChannelServer _server;
    private readonly string _directory;

    public RedisServerFixture()
    {
        _directory = Directory.CreateTempSubdirectory("stepml-redis-").FullName;
        _server = LocalChannelServer.StartRedis(_directory);
    }

    /// <summary><c>127.0.0.1:port</c>, as communication.endpoint names it.</summary>
    public string Endpoint => $"127.0.0.1:{_server.Port}";

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class RedisServerCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis-server";
}
