using System.Text.RegularExpressions;
using StepML.Infra;
using StepML.Storage;

namespace StepML.Infra.Tests;

// The grants in FunctionCatalog against the keys the steps really touch (RunLayout). A key a step writes
// with tags needs s3:PutObjectTagging as well as s3:PutObject, or S3 refuses the whole PUT.
public sealed class CatalogTests
{
    private const string Run = "higgs-lr-20260101";
    private const string Set = "0123456789abcdef0123456789abcdef";

    public static TheoryData<string, string, string> Accesses() => new()
    {
        { "Prepare", "read", "datasets/higgs.libsvm" },
        { "Prepare", "read", "datasets/higgs.libsvm.job.json" },
        { "Prepare", "read", "jobs/higgs.json" },
        { "Prepare", "read", RunLayout.Job(Run) },
        { "Prepare", "write", RunLayout.Job(Run) },
        { "Prepare", "write", RunLayout.DatasetRecord(Run) },
        { "Prepare", "read", RunLayout.SetManifest(Set) },
        { "Prepare", "write", RunLayout.SetPlan(Set) },
        { "Prepare", "write", RunLayout.SetPartition(Set, 3) },
        { "Prepare", "write", RunLayout.SetValidation(Set) },
        { "Prepare", "write", RunLayout.SetTest(Set) },
        { "Prepare", "write", RunLayout.SetManifest(Set) },
        { "Prepare", "read", RunLayout.SetSummary(Set) },
        { "Prepare", "read", RunLayout.SetPartition(Set, 0) },
        { "Prepare", "delete", RunLayout.SetPiece(Set, 7, 3) },
        { "Prepare", "delete", RunLayout.SetRangeSummary(Set, 7) },
        { "Prepare", "write", RunLayout.Model(Run, 0) },
        { "Partition", "read", "datasets/higgs.libsvm" },
        { "Partition", "read", RunLayout.SetPlan(Set) },
        { "Partition", "tagged", RunLayout.SetPiece(Set, 7, 3) },
        { "Partition", "tagged", RunLayout.SetRangeSummary(Set, 7) },
        { "Partition", "read", RunLayout.SetRangeSummary(Set, 7) },
        { "Partition", "write", RunLayout.SetSummary(Set) },
        { "Partition", "read", RunLayout.SetPiece(Set, 7, 3) },
        { "Partition", "write", RunLayout.SetPartition(Set, 3) },
        { "Partition", "write", RunLayout.SetValidation(Set) },
        { "Worker", "read", RunLayout.DatasetRecord(Run) },
        { "Worker", "read", RunLayout.SetPartition(Set, 3) },
        { "Worker", "read", RunLayout.Model(Run, 4) },
        { "Worker", "read", RunLayout.WorkerState(Run, 3, 3) },
        { "Worker", "tagged", RunLayout.Statistic(Run, 4, 3) },
        { "Worker", "tagged", RunLayout.WorkerState(Run, 3, 4) },
        { "Merge", "read", RunLayout.Statistic(Run, 4, 3) },
        { "Merge", "read", RunLayout.Model(Run, 4) },
        { "Merge", "read", RunLayout.Optimizer(Run, 3, 1) },
        { "Merge", "tagged", RunLayout.Merged(Run, 4, 1) },
        { "Merge", "read", RunLayout.TreePartial(Run, 4, 0, 2) },
        { "Merge", "tagged", RunLayout.TreePartial(Run, 4, 1, 0) },
        { "Merge", "write", RunLayout.Optimizer(Run, 4, 1) },
        { "Decide", "read", RunLayout.Merged(Run, 4, 1) },
        { "Decide", "read", RunLayout.SetValidation(Set) },
        { "Decide", "read", RunLayout.Metrics(Run) },
        { "Decide", "write", RunLayout.Model(Run, 5) },
        { "Decide", "write", RunLayout.Metrics(Run) },
        { "Finalize", "read", RunLayout.Model(Run, 5) },
        { "Finalize", "read", RunLayout.SetPartition(Set, 0) },
        { "Finalize", "read", RunLayout.SetTest(Set) },
        { "Finalize", "write", RunLayout.FinalModel(Run) },
        { "Finalize", "write", RunLayout.FinalSummary(Run) },
        { "Finalize", "write", RunLayout.Report(Run) },
        { "RecordFailure", "write", RunLayout.Failure(Run) },
    };

    [Theory]
    [MemberData(nameof(Accesses))]
    public void Catalog_KeyTheStepTouches_IsGrantedToItsFunction(string function, string access, string key)
    {
        var spec = FunctionCatalog.All.Single(f => f.Name == function);

        var granted = access switch
        {
            "read" => spec.Reads.Any(p => Matches(p, key)),
            "write" => spec.Writes.Any(p => Matches(p, key)),
            "tagged" => spec.Writes.Any(p => Matches(p, key)) && spec.TaggedWrites.Any(p => Matches(p, key)),
            "delete" => spec.DeleteKeys.Any(p => Matches(p, key)),
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "read, write or tagged"),
        };

        Assert.True(granted, $"{function} may not {access} '{key}': reads [{string.Join(", ", spec.Reads)}], writes [{string.Join(", ", spec.Writes)}], tagged [{string.Join(", ", spec.TaggedWrites)}]");
    }

    [Theory]
    [InlineData("Worker", RunLayoutKeys.Job)]
    [InlineData("Merge", RunLayoutKeys.Job)]
    [InlineData("Decide", RunLayoutKeys.Partition)]
    [InlineData("Worker", RunLayoutKeys.Partition)]
    [InlineData("Partition", RunLayoutKeys.Job)]
    [InlineData("RecordFailure", RunLayoutKeys.Job)]
    public void Catalog_KeyOutsideTheStepsJob_IsNotWritable(string function, string key)
    {
        var spec = FunctionCatalog.All.Single(f => f.Name == function);

        Assert.DoesNotContain(spec.Writes, p => Matches(p, key));
    }

    [Fact]
    public void Catalog_Deletes_OnlyPartitionSetScratchAndAResumedRunsFailureRecord()
    {
        Assert.All(FunctionCatalog.All.SelectMany(f => f.DeleteKeys), p => Assert.Matches("^(partitions/\\*/(pieces|ranges)/\\*|runs/\\*/failure\\.json)$", p));
        var prepare = FunctionCatalog.All.Single(f => f.Name == "Prepare").DeleteKeys;
        Assert.Contains(prepare, p => Matches(p, RunLayout.Failure("r")));
        foreach (var kept in new[] { RunLayout.SetPartition(Set, 0), RunLayout.SetManifest(Set), RunLayout.Model("r", 3), RunLayout.FinalModel("r"),
                     RunLayout.Record("r", 3), RunLayout.Job("r"), RunLayout.PastFailure("r", DateTimeOffset.UnixEpoch), RunLayout.Metrics("r") })
            Assert.DoesNotContain(prepare, p => Matches(p, kept));
    }

    [Fact]
    public void Catalog_NoFunction_MayWriteUploads()
    {
        Assert.All(FunctionCatalog.All, f => Assert.DoesNotContain(f.Writes, p => p.StartsWith("datasets/", StringComparison.Ordinal) || p.StartsWith("jobs/", StringComparison.Ordinal)));
    }

    // IAM resource patterns: '*' matches any run of characters, '/' included.
    private static bool Matches(string pattern, string key) =>
        Regex.IsMatch(key, "^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$");

    private static class RunLayoutKeys
    {
        public const string Job = "runs/higgs-lr-20260101/job.json";
        public const string Partition = "partitions/0123456789abcdef0123456789abcdef/0.part";
    }
}
