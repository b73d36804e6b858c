using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using StepML.Core.Jobs;

namespace StepML.Storage.Channels;

/// <summary>
/// DynamoDB as the channel. A tensor is a set of items under one partition key (the run's key from
/// <see cref="RunLayout"/>), sorted by the byte offset of each chunk (<see cref="DynamoDbChunks"/>: one item per tensor
/// block, so every item stays under the 400 KB limit). A ranged read is one Query over the sort-key window that can
/// overlap the range, so a merger reads only the chunks of its shard. Every item carries <c>expiresAt</c> (epoch
/// seconds), the table's TTL attribute.
/// </summary>
/// <remarks>Table schema (created by the CDK stack, or by the tests on dynalite): partition key <c>key</c> (S), sort key
/// <c>offset</c> (N), on-demand billing, TTL on <c>expiresAt</c>. A write is several batch requests, so a reader racing
/// an overwrite could see chunks of both versions; the pipeline never races (a retried worker rewrites the same bytes,
/// and readers run after the Map barrier).</remarks>
public sealed partial class DynamoDbChannel : IChannel
{
    public const string KeyAttribute = "key";
    public const string OffsetAttribute = "offset";
    public const string DataAttribute = "data";
    public const string SizeAttribute = "size";
    public const string ExpiresAttribute = "expiresAt";
    private const int BatchItems = 25;
    private const int ParallelBatches = 4;
    private const int UnprocessedRetries = 8;

    private static readonly ConcurrentDictionary<string, IAmazonDynamoDB> s_clients = new(StringComparer.Ordinal);

    private readonly IAmazonDynamoDB _client;
    private readonly ChannelEndpoint _endpoint;
    private readonly TimeProvider _time;

    public DynamoDbChannel(ChannelEndpoint endpoint, TimeSpan timeToLive, TimeProvider? time = null, IAmazonDynamoDB? client = null)
    {
        if (endpoint.Kind != ChannelKinds.DynamoDb) throw new ArgumentException($"not a dynamodb endpoint: {endpoint}", nameof(endpoint));
        if (timeToLive <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "the time to live must be positive");
        _endpoint = endpoint;
        _time = time ?? TimeProvider.System;
        TimeToLive = timeToLive;
        _client = client ?? s_clients.GetOrAdd(endpoint.ServiceUrl?.OriginalString ?? "", _ => CreateClient(endpoint.ServiceUrl));
    }

    public TimeSpan TimeToLive { get; }

    public string Name => $"dynamodb {_endpoint}";

    public bool DeletesRounds => true;

    /// <summary>A client for the regional endpoint (credentials from the standard chain), or for a server at
    /// <paramref name="serviceUrl"/> (dynalite, DynamoDB Local), which accepts any credentials when none are configured.</summary>
    public static IAmazonDynamoDB CreateClient(Uri? serviceUrl)
    {
        var config = new AmazonDynamoDBConfig { MaxErrorRetry = 2, Timeout = TimeSpan.FromSeconds(30) };
        if (serviceUrl is null) return new AmazonDynamoDBClient(config);
        config.ServiceURL = serviceUrl.OriginalString;
        config.AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        return string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"))
            ? new AmazonDynamoDBClient(new BasicAWSCredentials("stepml-local", "stepml-local"), config)
            : new AmazonDynamoDBClient(config);
    }

    /// <summary>Creates the channel table as the CDK stack does (key S, offset N, on demand) and waits until it is
    /// active: for local servers (dynalite) in the tests and the benchmark.</summary>
    public static async Task CreateTableAsync(IAmazonDynamoDB client, string table, CancellationToken cancellationToken = default)
    {
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new(KeyAttribute, ScalarAttributeType.S), new(OffsetAttribute, ScalarAttributeType.N)],
            KeySchema = [new(KeyAttribute, KeyType.HASH), new(OffsetAttribute, KeyType.RANGE)],
        }, cancellationToken).ConfigureAwait(false);
        await WaitActiveAsync(client, table, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WaitActiveAsync(IAmazonDynamoDB client, string table, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 200; i++)
        {
            var description = await client.DescribeTableAsync(table, cancellationToken).ConfigureAwait(false);
            if (description.Table.TableStatus == TableStatus.ACTIVE) return;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException($"table {table} did not become ACTIVE within 10 s");
    }

    /// <summary>Create the table on first write when it is missing: for local servers (dynalite) only, where the
    /// channel factory sets it; in the cloud the stack owns the table.</summary>
    public bool CreatesMissingTable { get; init; }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken = default)
    {
        try
        {
            await PutChunksAsync(key, tensor, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelConfigurationException e) when (CreatesMissingTable && e.InnerException is ResourceNotFoundException)
        {
            try
            {
                await CreateTableAsync(_client, _endpoint.Table, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceInUseException)
            {
                // Another worker created it first; wait until it is active.
                await WaitActiveAsync(_client, _endpoint.Table, cancellationToken).ConfigureAwait(false);
            }
            await PutChunksAsync(key, tensor, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PutChunksAsync(string key, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken)
    {
        ObjectKey.Validate(key);
        var expires = (_time.GetUtcNow() + TimeToLive).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var size = tensor.Length.ToString(CultureInfo.InvariantCulture);
        var requests = DynamoDbChunks.Plan(tensor.Span).Select(c => new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
        {
            [KeyAttribute] = new() { S = key },
            [OffsetAttribute] = new() { N = c.Offset.ToString(CultureInfo.InvariantCulture) },
            [DataAttribute] = new() { B = new MemoryStream(tensor.Slice((int)c.Offset, c.Length).ToArray(), writable: false) },
            [SizeAttribute] = new() { N = size },
            [ExpiresAttribute] = new() { N = expires },
        }))).ToList();
        await WriteBatchesAsync(key, requests, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var chunks = await QueryAsync(key, 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
        if (chunks.Count == 0) throw new ObjectNotFoundException(Name, key);
        var size = chunks[0].Size;
        var result = new byte[size];
        var covered = Assemble(chunks, 0, result);
        return covered == size ? result : throw new ObjectRangeException(Name, key, 0, (int)size, covered);
    }

    public async Task<byte[]> GetRangeAsync(string key, long offset, int length, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Chunks are at most MaxChunkBytes long, so one that overlaps [offset, offset+length) starts in this window.
        var chunks = await QueryAsync(key, Math.Max(0, offset - DynamoDbChunks.MaxChunkBytes + 1), offset + Math.Max(length, 1) - 1, cancellationToken).ConfigureAwait(false);
        if (chunks.Count == 0)
        {
            var any = await QueryAsync(key, 0, long.MaxValue, cancellationToken, limit: 1).ConfigureAwait(false);
            if (any.Count == 0) throw new ObjectNotFoundException(Name, key);
            chunks = any;
        }
        var size = chunks[0].Size;
        if (offset + length > size) throw new ObjectRangeException(Name, key, offset, length, size);
        var result = new byte[length];
        var covered = Assemble(chunks, offset, result);
        return covered == length ? result : throw new ObjectRangeException(Name, key, offset, length, covered);
    }

    public async Task DeleteRoundAsync(string runId, long round, int partitions, int shards, CancellationToken cancellationToken = default)
    {
        foreach (var key in ChannelKeys.Round(runId, round, partitions, shards))
            await DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var chunks = await QueryAsync(key, 0, long.MaxValue, cancellationToken, keysOnly: true).ConfigureAwait(false);
        var requests = chunks.Select(c => new WriteRequest(new DeleteRequest(new Dictionary<string, AttributeValue>
        {
            [KeyAttribute] = new() { S = key },
            [OffsetAttribute] = new() { N = c.Offset.ToString(CultureInfo.InvariantCulture) },
        }))).ToList();
        await WriteBatchesAsync(key, requests, cancellationToken).ConfigureAwait(false);
    }

    private sealed record Chunk(long Offset, byte[] Data, long Size);

    /// <summary>Copies the chunks' overlap with [offset, offset + destination.Length) and returns the bytes covered.</summary>
    private static long Assemble(List<Chunk> chunks, long offset, byte[] destination)
    {
        long covered = 0;
        foreach (var c in chunks)
        {
            var from = Math.Max(c.Offset, offset);
            var to = Math.Min(c.Offset + c.Data.Length, offset + destination.Length);
            if (to <= from) continue;
            c.Data.AsSpan((int)(from - c.Offset), (int)(to - from)).CopyTo(destination.AsSpan((int)(from - offset)));
            covered += to - from;
        }
        return covered;
    }

    private async Task<List<Chunk>> QueryAsync(string key, long low, long high, CancellationToken cancellationToken, int? limit = null, bool keysOnly = false)
    {
        var request = new QueryRequest
        {
            TableName = _endpoint.Table,
            KeyConditionExpression = "#k = :k AND #o BETWEEN :lo AND :hi",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#k"] = KeyAttribute, ["#o"] = OffsetAttribute },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue>
            {
                [":k"] = new() { S = key },
                [":lo"] = new() { N = low.ToString(CultureInfo.InvariantCulture) },
                [":hi"] = new() { N = Math.Min(high, long.MaxValue / 2).ToString(CultureInfo.InvariantCulture) },
            },
            ConsistentRead = true,
            Limit = limit,
            ProjectionExpression = keysOnly ? "#o" : null,
        };
        if (!keysOnly)
        {
            request.ExpressionAttributeNames["#d"] = DataAttribute;
            request.ExpressionAttributeNames["#s"] = SizeAttribute;
            request.ProjectionExpression = "#o, #d, #s";
        }
        var chunks = new List<Chunk>();
        do
        {
            var response = await TranslateAsync("read", key, () => _client.QueryAsync(request, cancellationToken)).ConfigureAwait(false);
            foreach (var item in response.Items ?? [])
                chunks.Add(new Chunk(
                    long.Parse(item[OffsetAttribute].N, CultureInfo.InvariantCulture),
                    keysOnly ? [] : item[DataAttribute].B.ToArray(),
                    keysOnly ? 0 : long.Parse(item[SizeAttribute].N, CultureInfo.InvariantCulture)));
            request.ExclusiveStartKey = response.LastEvaluatedKey;
        } while (limit is null && request.ExclusiveStartKey is { Count: > 0 });
        return chunks;
    }

    private async Task WriteBatchesAsync(string key, List<WriteRequest> requests, CancellationToken cancellationToken)
    {
        var batches = requests.Chunk(BatchItems).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = ParallelBatches, CancellationToken = cancellationToken }, async (batch, ct) =>
        {
            var pending = new Dictionary<string, List<WriteRequest>> { [_endpoint.Table] = [.. batch] };
            for (var attempt = 0; pending.Count > 0; attempt++)
            {
                if (attempt > UnprocessedRetries)
                    throw new StoreTransientException($"write '{key}' on the {Name} channel: the table kept returning unprocessed items (throttled); a retry may succeed", new ProvisionedThroughputExceededException("unprocessed items"));
                var response = await TranslateAsync("write", key, () => _client.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, ct)).ConfigureAwait(false);
                pending = response.UnprocessedItems is { Count: > 0 } rest ? rest : [];
            }
        }).ConfigureAwait(false);
    }

    private async Task<T> TranslateAsync<T>(string operation, string key, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ResourceNotFoundException e)
        {
            throw new ChannelConfigurationException($"the {Name} channel has no table '{_endpoint.Table}': create it (the CDK stack does; locally see README, Channels) or fix communication.endpoint", e);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw new StoreTransientException($"{operation} '{key}' on the {Name} channel failed and may succeed on retry: {e.Message}", e);
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        ProvisionedThroughputExceededException or RequestLimitExceededException or InternalServerErrorException => true,
        AmazonServiceException s when (int)s.StatusCode >= 500 || s.ErrorCode is "ThrottlingException" => true,
        HttpRequestException or SocketException or IOException => true,
        TaskCanceledException t => t.InnerException is TimeoutException,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };
}
