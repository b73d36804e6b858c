using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace StepML.Storage.Ledger;

/// <summary>
/// The cloud ledger: one DynamoDB table (partition key <c>pk</c>, a string), one item per run
/// (<c>run#&lt;runId&gt;</c>: owner, status, version, since, process) and one per used trigger event
/// (<c>once#&lt;key&gt;</c>). Claims are <c>PutItem</c> with <c>attribute_not_exists(pk)</c>, replacements
/// <c>PutItem</c> with <c>version = :expected</c>; a <see cref="ConditionalCheckFailedException"/> becomes
/// <see cref="RunOwnedException"/> naming the winner. Reads are strongly consistent.
/// </summary>
public sealed class DynamoDbRunLedger : IRunLedger
{
    public const string Scheme = "dynamodb://";
    public const string EndpointVariable = "STEPML_DYNAMODB_ENDPOINT";
    private const string KeyName = "pk";

    private static readonly ConcurrentDictionary<string, IAmazonDynamoDB> s_clients = new();

    private readonly IAmazonDynamoDB _client;
    private readonly TimeProvider _time;

    public DynamoDbRunLedger(IAmazonDynamoDB client, string table, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        _client = client;
        Table = table;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>From <c>dynamodb://TABLE</c>; <paramref name="endpoint"/> (e.g. dynalite's) replaces AWS's.
    /// One client per endpoint per process (a warm Lambda container reuses it).</summary>
    public static DynamoDbRunLedger Open(string uri, string? endpoint, TimeProvider? time = null)
    {
        var table = uri.StartsWith(Scheme, StringComparison.Ordinal) ? uri[Scheme.Length..] : uri;
        if (table.Length is < 3 or > 255 || table.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
            throw new ArgumentException($"ledger '{uri}': '{table}' is not a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ - .)");
        var client = s_clients.GetOrAdd(endpoint ?? "", e => new AmazonDynamoDBClient(CreateConfig(e.Length == 0 ? null : new Uri(e))));
        return new DynamoDbRunLedger(client, table, time);
    }

    public static AmazonDynamoDBConfig CreateConfig(Uri? endpoint)
    {
        var config = new AmazonDynamoDBConfig();
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.OriginalString;
            config.AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        }
        return config;
    }

    public string Table { get; }

    public string Uri => Scheme + Table;

    public async Task<RunOwner> ClaimAsync(string runId, string owner, string? process, CancellationToken cancellationToken = default)
    {
        var record = new RunOwner(ObjectKey.ValidateRunId(runId), owner, RunStatus.Running, 1, _time.GetUtcNow(), process);
        try
        {
            await CallAsync(() => _client.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = ToItem(record),
                ConditionExpression = "attribute_not_exists(pk)",
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            return record;
        }
        catch (ConditionalCheckFailedException e)
        {
            var current = await ReadAsync(runId, cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Owner == owner) return current;
            throw new RunOwnedException(runId, current!, e);
        }
    }

    public async Task<RunOwner?> ReadAsync(string runId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(() => _client.GetItemAsync(new GetItemRequest
        {
            TableName = Table,
            Key = new Dictionary<string, AttributeValue> { [KeyName] = new() { S = RunKey(runId) } },
            ConsistentRead = true,
        }, cancellationToken), cancellationToken).ConfigureAwait(false);
        var item = response.Item;
        if (item is null || item.Count == 0) return null;
        return new RunOwner(runId, item["owner"].S, item["status"].S, long.Parse(item["version"].N, CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(item["since"].S, CultureInfo.InvariantCulture), item.TryGetValue("process", out var p) ? p.S : null);
    }

    public async Task<RunOwner> ReplaceAsync(RunOwner expected, string owner, string status, string? process, CancellationToken cancellationToken = default)
    {
        var record = new RunOwner(expected.RunId, owner, status, expected.Version + 1, _time.GetUtcNow(), process);
        try
        {
            await CallAsync(() => _client.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = ToItem(record),
                ConditionExpression = "version = :expected",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":expected"] = new() { N = expected.Version.ToString(CultureInfo.InvariantCulture) },
                },
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            return record;
        }
        catch (ConditionalCheckFailedException e)
        {
            var current = await ReadAsync(expected.RunId, cancellationToken).ConfigureAwait(false);
            throw new RunOwnedException(expected.RunId, current!, e);
        }
    }

    public async Task<string?> ClaimOnceAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        var pk = "once#" + key;
        try
        {
            await CallAsync(() => _client.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = new Dictionary<string, AttributeValue>
                {
                    [KeyName] = new() { S = pk },
                    ["owner"] = new() { S = owner },
                    ["since"] = new() { S = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture) },
                },
                ConditionExpression = "attribute_not_exists(pk)",
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (ConditionalCheckFailedException)
        {
            var response = await CallAsync(() => _client.GetItemAsync(new GetItemRequest
            {
                TableName = Table,
                Key = new Dictionary<string, AttributeValue> { [KeyName] = new() { S = pk } },
                ConsistentRead = true,
            }, cancellationToken), cancellationToken).ConfigureAwait(false);
            var existing = response.Item is { Count: > 0 } item ? item["owner"].S : "(unknown)";
            return existing == owner ? null : existing;
        }
    }

    private static string RunKey(string runId) => "run#" + ObjectKey.ValidateRunId(runId);

    private static Dictionary<string, AttributeValue> ToItem(RunOwner record)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [KeyName] = new() { S = RunKey(record.RunId) },
            ["owner"] = new() { S = record.Owner },
            ["status"] = new() { S = record.Status },
            ["version"] = new() { N = record.Version.ToString(CultureInfo.InvariantCulture) },
            ["since"] = new() { S = record.Since.ToString("O", CultureInfo.InvariantCulture) },
        };
        if (record.Process is not null) item["process"] = new() { S = record.Process };
        return item;
    }

    /// <summary>Throttling, 5xx and dropped connections become <see cref="StoreTransientException"/> (the state
    /// machine retries it); a refused condition passes through for the caller to translate.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ConditionalCheckFailedException && IsTransient(e, cancellationToken))
        {
            throw new StoreTransientException($"ledger {Uri}: {e.Message} (may succeed on retry)", e);
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        ProvisionedThroughputExceededException or RequestLimitExceededException or InternalServerErrorException => true,
        AmazonServiceException s when (int)s.StatusCode >= 500 || s.StatusCode == HttpStatusCode.TooManyRequests || s.ErrorCode is "ThrottlingException" => true,
        HttpRequestException or IOException or SocketException => true,
        OperationCanceledException when !cancellationToken.IsCancellationRequested => true,
        AmazonClientException { InnerException: { } inner } => IsTransient(inner, cancellationToken),
        _ => false,
    };
}
