using Xunit.Abstractions;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection;

// Runs alone so other tests' allocations do not blur the heap measurement.
[Collection(nameof(MemoryCollection))]
public sealed class PartitionerMemoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "stepml-memory-" + Guid.NewGuid().ToString("N"));
    private readonly ITestOutputHelper _output;

    public PartitionerMemoryTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Run_HundredMegabyteFile_BuffersStayBoundedIndependentOfSize()
    {
        string input = Path.Combine(_root, "higgs.libsvm");
        using (var writer = new StreamWriter(input))
        {
            SyntheticData.WriteHiggsLike(writer, rows: 340_000, features: 28, seed: 3);
        }

        long fileBytes = new FileInfo(input).Length;
        Assert.InRange(fileBytes, 90L << 20, 130L << 20);

        var budget = new BufferBudget();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = GC.GetTotalMemory(forceFullCollection: false);
        long peakHeap = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
                Thread.Sleep(2);
            }
        });
        sampler.Start();

        PartitionSummary summary;
        try
        {
            // Features omitted: the discovery pass reads the file a first time as well.
            summary = Partitioner.Run(
                () => File.OpenRead(input), "higgs.libsvm", DatasetFormat.LibSvm,
                new PartitionOptions(Partitions: 8, ValidationFraction: 0.1, Seed: 1, Sparse: true),
                Path.Combine(_root, "out"), budget);
        }
        finally
        {
            stop.Cancel();
            sampler.Join();
        }

        long heapGrowth = peakHeap - baseline;
        _output.WriteLine($"input {fileBytes >> 20} MiB, designed buffers peak {budget.Peak >> 20} MiB, sampled heap growth {heapGrowth >> 20} MiB");
        Assert.Equal(340_000, summary.TotalRows);
        Assert.Equal(28, summary.Features);

        // By design: a 1 MiB line buffer, 9 spill buffers of 1 MiB, 1 MiB assembly buffers, one row.
        Assert.InRange(budget.Peak, 1L << 20, 16L << 20);

        // Loose whole-heap check: holding the text (≥ 200 MB as strings) or the parsed rows
        // (≈ 80 MB as CSR) would exceed it; garbage between gen0 collections stays far below.
        Assert.True(heapGrowth < 48L << 20, $"managed heap grew by {heapGrowth >> 20} MiB while partitioning {fileBytes >> 20} MiB");
    }
}
