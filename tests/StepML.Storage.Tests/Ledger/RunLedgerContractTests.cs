using StepML.Storage.Ledger;

namespace StepML.Storage.Tests.Ledger;

// The behaviour every IRunLedger promises, run against the folder ledger and against DynamoDB (dynalite).
public abstract class RunLedgerContractTests
{
    protected abstract IRunLedger Ledger { get; }

    [Fact]
    public async Task Claim_NewRun_RecordsOwnerRunningVersionOne()
    {
        var claimed = await Ledger.ClaimAsync("run-a", "exec-1", "host:1:2");

        var read = await Ledger.ReadAsync("run-a");

        Assert.Equal(claimed, read);
        Assert.Equal(("exec-1", RunStatus.Running, 1L, "host:1:2"), (read!.Owner, read.Status, read.Version, read.Process));
    }

    [Fact]
    public async Task Read_UnclaimedRun_ReturnsNull()
    {
        Assert.Null(await Ledger.ReadAsync("nobody-claimed-me"));
    }

    [Fact]
    public async Task Claim_SameOwnerAgain_ReturnsTheExistingRecord()
    {
        var first = await Ledger.ClaimAsync("run-b", "exec-1", null);

        var again = await Ledger.ClaimAsync("run-b", "exec-1", null);

        Assert.Equal(first, again);
    }

    [Fact]
    public async Task Claim_OtherOwner_ThrowsRunOwnedNamingTheOwner()
    {
        await Ledger.ClaimAsync("run-c", "exec-1", null);

        var e = await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.ClaimAsync("run-c", "exec-2", null));

        Assert.Equal("exec-1", e.Current!.Owner);
        Assert.Contains("exec-1", e.Message);
        Assert.Contains("run-c", e.Message);
        Assert.Equal("exec-1", (await Ledger.ReadAsync("run-c"))!.Owner);
    }

    [Fact]
    public async Task Claim_ManyConcurrentOwners_ExactlyOneWins()
    {
        var attempts = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            try
            {
                await Ledger.ClaimAsync("run-race", $"exec-{i}", null);
                return $"exec-{i}";
            }
            catch (RunOwnedException)
            {
                return null;
            }
        })).ToArray();

        var winners = (await Task.WhenAll(attempts)).Where(w => w is not null).ToList();

        Assert.Single(winners);
        Assert.Equal(winners[0], (await Ledger.ReadAsync("run-race"))!.Owner);
    }

    [Fact]
    public async Task Replace_ExpectedVersion_WritesNextVersion()
    {
        var first = await Ledger.ClaimAsync("run-d", "exec-1", null);

        var next = await Ledger.ReplaceAsync(first, "exec-2", RunStatus.Running, "h:3:4");

        Assert.Equal(2, next.Version);
        Assert.Equal(next, await Ledger.ReadAsync("run-d"));
    }

    [Fact]
    public async Task Replace_StaleVersion_ThrowsRunOwnedAndKeepsTheWinner()
    {
        var first = await Ledger.ClaimAsync("run-e", "exec-1", null);
        await Ledger.ReplaceAsync(first, "exec-2", RunStatus.Running, null);

        var e = await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.ReplaceAsync(first, "exec-3", RunStatus.Running, null));

        Assert.Equal("exec-2", e.Current!.Owner);
        Assert.Equal("exec-2", (await Ledger.ReadAsync("run-e"))!.Owner);
    }

    [Fact]
    public async Task Replace_ManyConcurrentOnOneVersion_ExactlyOneWins()
    {
        var first = await Ledger.ClaimAsync("run-f", "exec-0", null);
        var attempts = Enumerable.Range(1, 12).Select(i => Task.Run(async () =>
        {
            try
            {
                return (await Ledger.ReplaceAsync(first, $"exec-{i}", RunStatus.Running, null)).Owner;
            }
            catch (RunOwnedException)
            {
                return null;
            }
        })).ToArray();

        var winners = (await Task.WhenAll(attempts)).Where(w => w is not null).ToList();

        Assert.Single(winners);
        Assert.Equal(2, (await Ledger.ReadAsync("run-f"))!.Version);
    }

    [Fact]
    public async Task ClaimOnce_FirstAndRetryBySameOwner_ReturnNull()
    {
        Assert.Null(await Ledger.ClaimOnceAsync("s3:bucket/jobs/a.json@etag1", "exec-1"));
        Assert.Null(await Ledger.ClaimOnceAsync("s3:bucket/jobs/a.json@etag1", "exec-1"));
    }

    [Fact]
    public async Task ClaimOnce_SecondOwner_ReturnsTheFirstOwner()
    {
        await Ledger.ClaimOnceAsync("event-42", "exec-1");

        Assert.Equal("exec-1", await Ledger.ClaimOnceAsync("event-42", "exec-2"));
        Assert.Null(await Ledger.ClaimOnceAsync("event-43", "exec-2"));
    }

    [Fact]
    public async Task HandOver_FromCurrentOwner_PassesOwnershipAndIsIdempotent()
    {
        await Ledger.ClaimAsync("run-g", "exec-1", null);

        await Ledger.HandOverAsync("run-g", "exec-1", "exec-2", null);
        var again = await Ledger.HandOverAsync("run-g", "exec-1", "exec-2", null);

        Assert.Equal(("exec-2", 2L), (again.Owner, again.Version));
        await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.HandOverAsync("run-g", "exec-1", "exec-3", null));
    }

    [Fact]
    public async Task TakeOver_LiveRunningOwner_Refused_FailedOrDeadOrForced_TakesOver()
    {
        await Ledger.ClaimAsync("run-h", "exec-1", "host:1:1");

        await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.TakeOverAsync("run-h", "exec-2", null, force: false, isAlive: _ => true));
        var dead = await Ledger.TakeOverAsync("run-h", "exec-2", "host:2:2", force: false, isAlive: _ => false);
        await Ledger.MarkAsync("run-h", "exec-2", RunStatus.Failed);
        var afterFailure = await Ledger.TakeOverAsync("run-h", "exec-3", null, force: false, isAlive: _ => true);
        var forced = await Ledger.TakeOverAsync("run-h", "exec-4", null, force: true, isAlive: _ => true);

        Assert.Equal("exec-2", dead.Owner);
        Assert.Equal("exec-3", afterFailure.Owner);
        Assert.Equal(("exec-4", RunStatus.Running, 5L), (forced.Owner, forced.Status, forced.Version));
    }

    [Fact]
    public async Task Mark_ByFormerOwner_ThrowsRunOwned()
    {
        await Ledger.ClaimAsync("run-i", "exec-1", null);
        await Ledger.TakeOverAsync("run-i", "exec-2", null, force: true);

        await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.MarkAsync("run-i", "exec-1", RunStatus.Finished));
        var finished = await Ledger.MarkAsync("run-i", "exec-2", RunStatus.Finished);

        Assert.Equal(RunStatus.Finished, finished.Status);
    }
}

public sealed class FolderRunLedgerContractTests : RunLedgerContractTests, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("stepml-ledger-");

    public FolderRunLedgerContractTests() => Ledger = new FolderRunLedger(_folder.FullName);

    protected override IRunLedger Ledger { get; }

    [Fact]
    public async Task Read_DamagedRecord_ThrowsLedgerCorruptNamingTheFile()
    {
        await Ledger.ClaimAsync("run-z", "exec-1", null);
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "runs", "run-z", "1.json"), "{\"runId\":");

        var e = await Assert.ThrowsAsync<LedgerCorruptException>(() => Ledger.ReadAsync("run-z"));

        Assert.Contains(Path.Combine("runs", "run-z", "1.json"), e.Message);
    }

    public void Dispose() => _folder.Delete(recursive: true);
}

[Collection(DynaliteCollection.Name)]
public sealed class DynamoDbRunLedgerContractTests(DynaliteFixture server) : RunLedgerContractTests
{
    protected override IRunLedger Ledger { get; } = new DynamoDbRunLedger(server.Client, server.CreateTable());

    [Fact]
    public async Task Claim_Taken_KeepsConditionalCheckFailedAsInnerException()
    {
        await Ledger.ClaimAsync("run-y", "exec-1", null);

        var e = await Assert.ThrowsAsync<RunOwnedException>(() => Ledger.ClaimAsync("run-y", "exec-2", null));

        Assert.IsType<Amazon.DynamoDBv2.Model.ConditionalCheckFailedException>(e.InnerException);
    }

    [Fact]
    public async Task Claim_MissingTable_IsNotTransient()
    {
        var ledger = new DynamoDbRunLedger(server.Client, "no-such-table");

        await Assert.ThrowsAsync<Amazon.DynamoDBv2.Model.ResourceNotFoundException>(() => ledger.ClaimAsync("run-x", "exec-1", null));
    }
}
