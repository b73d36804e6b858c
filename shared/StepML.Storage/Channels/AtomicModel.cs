using StepML.Core.Tensors;

namespace StepML.Storage.Channels;

/// <summary>
/// The model of an asynchronous run (LambdaML's S-ASP, §3.3), kept in the run's channel so that every worker reads the
/// current version and applies its update without waiting for the others, and without losing anyone's update. A version
/// is an immutable tensor (the model followed by its optimizer state) under a key of its own; the register
/// <see cref="RunLayout.AsyncHead"/> names the current one. An update is a read-modify-write: read the register and
/// the version it names, compute the next values, write them under a new key, then swap the register from the version
/// read to the new key (<see cref="IChannel.TryWriteRegisterAsync"/>, atomic on every channel that
/// <see cref="IChannel.SupportsRegisters"/>). When another worker swapped first, the update is applied again to the
/// newer version, so each update lands exactly once: the register's version − 1 counts the updates applied.
/// </summary>
public sealed class AtomicModel(IChannel channel, string runId)
{
    private readonly string _head = RunLayout.AsyncHead(runId);

    /// <param name="Version">The register's version: 1 for the initial model, +1 per applied update.</param>
    /// <param name="Key">Where the version's tensor is.</param>
    public sealed record Snapshot(long Version, string Key, float[] Values);

    /// <summary>Writes version 1 unless some worker already did; true when this call wrote it.</summary>
    public async Task<bool> InitializeAsync(ReadOnlyMemory<float> values, CancellationToken cancellationToken = default)
    {
        if (!channel.SupportsRegisters) throw new AtomicUpdatesNotSupportedException(channel.Name);
        if (await channel.ReadRegisterAsync(_head, cancellationToken).ConfigureAwait(false) is not null) return false;
        return await TryWriteAsync(0, values.Span.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The current version. A version that a newer one replaced (and whose tensor was deleted) between reading
    /// the register and the tensor is read again.</summary>
    public async Task<Snapshot> ReadAsync(long length, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var head = await channel.ReadRegisterAsync(_head, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the asynchronous model of run '{runId}' is not in the channel ({_head} is missing on {channel.Name}): " +
                    "never initialised, or expired with the channel's TTL before a resume");
            try
            {
                var values = TensorCodec.Decode(await channel.GetAsync(head.Value, cancellationToken).ConfigureAwait(false), head.Value, out var header);
                if (header.ElementCount != length)
                    throw new TensorFormatException(head.Value, $"holds {header.ElementCount} values; this run's asynchronous model has {length}");
                return new Snapshot(head.Version, head.Value, values);
            }
            catch (ObjectNotFoundException) when (attempt < 1000)
            {
            }
        }
    }

    /// <summary>The outcome of one update: the version it produced and how often another worker's write came first.</summary>
    public readonly record struct Applied(long Version, int Conflicts);

    /// <summary>Applies <paramref name="update"/> (version read, current values, next values to fill) to
    /// <paramref name="start"/>, and on a conflict to the newer version, until the swap succeeds.</summary>
    public async Task<Applied> UpdateAsync(Snapshot start, Action<long, float[], float[]> update, CancellationToken cancellationToken = default)
    {
        var snapshot = start;
        var next = new float[snapshot.Values.Length];
        for (var conflicts = 0; ; conflicts++)
        {
            update(snapshot.Version, snapshot.Values, next);
            if (await TryWriteAsync(snapshot.Version, next, cancellationToken).ConfigureAwait(false))
            {
                // Nobody needs the version just replaced once they read the register again; a reader between the two
                // reads retries (ReadAsync).
                await channel.DeleteAsync(snapshot.Key, cancellationToken).ConfigureAwait(false);
                return new Applied(snapshot.Version + 1, conflicts);
            }
            snapshot = await ReadAsync(next.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryWriteAsync(long expected, float[] values, CancellationToken cancellationToken)
    {
        var key = RunLayout.AsyncModel(runId, expected + 1, Guid.NewGuid().ToString("N"));
        await channel.PutAsync(key, TensorCodec.Encode(values, [values.Length], expected + 1, TensorCodec.MaxBlockElements), cancellationToken).ConfigureAwait(false);
        if (await channel.TryWriteRegisterAsync(_head, expected, key, cancellationToken).ConfigureAwait(false)) return true;
        await channel.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        return false;
    }
}
