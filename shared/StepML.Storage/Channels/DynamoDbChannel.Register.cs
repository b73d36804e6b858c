using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace StepML.Storage.Channels;

/// <summary>Registers on DynamoDB: one item (sort key -1, below every chunk offset) with a <c>version</c> attribute,
/// replaced by a conditional PutItem whose condition is the version the writer read (or that the item does not exist),
/// so DynamoDB refuses all but the first of concurrent writers.</summary>
public sealed partial class DynamoDbChannel
{
    public const string VersionAttribute = "version";
    public const string ValueAttribute = "value";
    private const string RegisterOffset = "-1";

    public bool SupportsRegisters => true;

    public async Task<ChannelRegister?> ReadRegisterAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var response = await TranslateAsync("read", key, () => _client.GetItemAsync(new GetItemRequest
        {
            TableName = _endpoint.Table,
            Key = new Dictionary<string, AttributeValue> { [KeyAttribute] = new() { S = key }, [OffsetAttribute] = new() { N = RegisterOffset } },
            ConsistentRead = true,
        }, cancellationToken)).ConfigureAwait(false);
        if (response.Item is not { Count: > 0 } item) return null;
        return new ChannelRegister(long.Parse(item[VersionAttribute].N, CultureInfo.InvariantCulture), item[ValueAttribute].S);
    }

    public async Task<bool> TryWriteRegisterAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var request = new PutItemRequest
        {
            TableName = _endpoint.Table,
            Item = new Dictionary<string, AttributeValue>
            {
                [KeyAttribute] = new() { S = key },
                [OffsetAttribute] = new() { N = RegisterOffset },
                [VersionAttribute] = new() { N = (expectedVersion + 1).ToString(CultureInfo.InvariantCulture) },
                [ValueAttribute] = new() { S = value },
                [ExpiresAttribute] = new() { N = (_time.GetUtcNow() + TimeToLive).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
            },
            ExpressionAttributeNames = new Dictionary<string, string> { ["#k"] = KeyAttribute },
        };
        if (expectedVersion == 0)
            request.ConditionExpression = "attribute_not_exists(#k)";
        else
        {
            request.ConditionExpression = "#v = :expected";
            request.ExpressionAttributeNames = new Dictionary<string, string> { ["#v"] = VersionAttribute };
            request.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":expected"] = new() { N = expectedVersion.ToString(CultureInfo.InvariantCulture) } };
        }
        try
        {
            await TranslateAsync("write", key, () => _client.PutItemAsync(request, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }
}
