using StepML.Core.Jobs;
using StepML.Storage.Channels;
using StepML.Storage.S3;
using StepML.Storage.Tests.S3;

namespace StepML.Storage.Tests.Channels;

// What asynchronous training needs from a channel: a compare-and-swap register where exactly one of concurrent writers
// wins, and on top of it AtomicModel's read-modify-write that loses no update however many workers contend. Run against
// each real server (the folder store, redis-server, dynalite) by the subclasses below.
public abstract class AtomicModelContractTests
{
    protected abstract IChannel Channel { get; }

    private readonly string _runId = "a-" + Guid.NewGuid().ToString("N")[..12];

    private string Key => RunLayout.AsyncHead(_runId);

    [Fact]
    public async Task ReadRegister_NeverWritten_ReturnsNull()
    {
        Assert.True(Channel.SupportsRegisters);
        Assert.Null(await Channel.ReadRegisterAsync(Key));
    }

    [Fact]
    public async Task TryWriteRegister_CurrentVersion_SetsTheNextVersion()
    {
        Assert.True(await Channel.TryWriteRegisterAsync(Key, 0, "first"));
        Assert.True(await Channel.TryWriteRegisterAsync(Key, 1, "second"));

        Assert.Equal(new ChannelRegister(2, "second"), await Channel.ReadRegisterAsync(Key));
    }

    [Fact]
    public async Task TryWriteRegister_StaleVersion_ReturnsFalseAndKeepsTheValue()
    {
        Assert.True(await Channel.TryWriteRegisterAsync(Key, 0, "first"));
        Assert.True(await Channel.TryWriteRegisterAsync(Key, 1, "second"));

        Assert.False(await Channel.TryWriteRegisterAsync(Key, 1, "late"));
        Assert.False(await Channel.TryWriteRegisterAsync(Key, 0, "later"));
        Assert.Equal(new ChannelRegister(2, "second"), await Channel.ReadRegisterAsync(Key));
    }

    [Fact]
    public async Task TryWriteRegister_ConcurrentWritersOfOneVersion_ExactlyOneWins()
    {
        Assert.True(await Channel.TryWriteRegisterAsync(Key, 0, "start"));

        var wins = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => Channel.TryWriteRegisterAsync(Key, 1, $"writer {i}"))));

        Assert.Equal(1, wins.Count(w => w));
        var winner = Array.IndexOf(wins, true);
        Assert.Equal(new ChannelRegister(2, $"writer {winner}"), await Channel.ReadRegisterAsync(Key));
    }

    [Fact]
    public async Task Update_ConcurrentWriters_LosesNoUpdate()
    {
        const int writers = 6, updates = 20, length = 5000;
        var model = new AtomicModel(Channel, _runId);
        Assert.True(await model.InitializeAsync(new float[length]));
        Assert.False(await model.InitializeAsync(new float[length]));

        // Every writer reads the first snapshot before any of them writes, so at least writers − 1 of them must lose
        // the first race, however the machine schedules them; later updates race as they happen.
        var firstReads = 0;
        var allRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conflicts = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var total = 0;
            for (var u = 0; u < updates; u++)
            {
                var snapshot = await model.ReadAsync(length);
                if (u == 0)
                {
                    if (Interlocked.Increment(ref firstReads) == writers) allRead.SetResult();
                    await allRead.Task;
                }
                // Element 0 counts every update, element 1 + w this writer's: a lost update leaves a count short.
                var applied = await model.UpdateAsync(snapshot, (_, current, next) =>
                {
                    current.CopyTo(next, 0);
                    next[0] += 1;
                    next[1 + w] += 1;
                });
                total += applied.Conflicts;
            }
            return total;
        })));

        var final = await model.ReadAsync(length);
        Assert.Equal(writers * updates + 1, final.Version);
        Assert.Equal(writers * updates, final.Values[0]);
        for (var w = 0; w < writers; w++) Assert.Equal(updates, final.Values[1 + w]);
        // The writers did contend (otherwise this test proves nothing about atomicity).
        Assert.True(conflicts.Sum() >= writers - 1, $"{conflicts.Sum()} lost races: every writer but one held a stale first snapshot");
    }
}

public sealed class FolderAtomicModelTests : AtomicModelContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stepml-atomic-").FullName;

    public FolderAtomicModelTests() => Channel = new ObjectStoreChannel(new FileObjectStore(_root));

    protected override IChannel Channel { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisAtomicModelTests(RedisServerFixture server) : AtomicModelContractTests
{
    protected override IChannel Channel { get; } = new RedisChannel(ChannelEndpoint.Parse(ChannelKinds.Redis, server.Endpoint), TimeSpan.FromHours(1));
}

[Collection(DynaliteCollection.Name)]
public sealed class DynamoDbAtomicModelTests(DynaliteFixture server) : AtomicModelContractTests
{
    protected override IChannel Channel { get; } = new DynamoDbChannel(ChannelEndpoint.Parse(ChannelKinds.DynamoDb, server.Endpoint), TimeSpan.FromHours(1));
}

// The S3 store does not use S3's conditional writes (s3rver ignores If-None-Match on PUT, so they cannot be tested):
// the channel says so, and asynchronous training refuses it with a message that names the channels that work.
[Collection(S3rverCollection.Name)]
public sealed class S3AtomicModelTests(S3rverFixture server)
{
    [Fact]
    public async Task TryWriteRegister_OnS3_ThrowsNamingTheChannelsThatWork()
    {
        var channel = new ObjectStoreChannel(new S3ObjectStore(server.Client, new S3StoreLocation(server.CreateBucket(), "", server.Endpoint)));

        Assert.False(channel.SupportsRegisters);
        var e = await Assert.ThrowsAsync<AtomicUpdatesNotSupportedException>(() => new AtomicModel(channel, "s3-run").InitializeAsync(new float[3]));
        Assert.Contains("\"redis\" or \"dynamodb\"", e.Message);
    }
}
