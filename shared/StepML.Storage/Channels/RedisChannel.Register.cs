using StackExchange.Redis;

namespace StepML.Storage.Channels;

/// <summary>Registers on Redis: a hash (version, value) changed by one Lua script, which Redis runs atomically (no other
/// command runs between its read of the version and its write), so a compare-and-swap needs one round trip.</summary>
public sealed partial class RedisChannel
{
    private const string CompareAndSwapScript = """
        local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
        if v ~= tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'version', v + 1, 'value', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    public bool SupportsRegisters => true;

    public async Task<ChannelRegister?> ReadRegisterAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var db = await DatabaseAsync().ConfigureAwait(false);
        var fields = await TranslateAsync("read", key, () => db.HashGetAsync(key, ["version", "value"])).ConfigureAwait(false);
        return fields[0].IsNull ? null : new ChannelRegister((long)fields[0], (string)fields[1]!);
    }

    public async Task<bool> TryWriteRegisterAsync(string key, long expectedVersion, string value, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var db = await DatabaseAsync().ConfigureAwait(false);
        var result = await TranslateAsync("write", key, () => db.ScriptEvaluateAsync(CompareAndSwapScript, [key],
            [expectedVersion, value, (long)TimeToLive.TotalMilliseconds])).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        var db = await DatabaseAsync().ConfigureAwait(false);
        await TranslateAsync("delete", key, () => db.KeyDeleteAsync(key)).ConfigureAwait(false);
    }
}
