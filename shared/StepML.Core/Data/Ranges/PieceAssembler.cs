namespace StepML.Core.Data;

/// <summary>
/// Assembles one output (a training partition or validation) from its pieces, read in range order: the same
/// <c>.part</c> bytes whatever the range size, because the pieces in range order hold the output's rows in file
/// order. Memory: two 1 MiB buffers and one dense row; disk: the <c>.part</c> file.
/// </summary>
public static class PieceAssembler
{
    /// <param name="openPieces">Opens the output's pieces, in range order, as one stream (read once per section).</param>
    public static void Assemble(Func<Stream> openPieces, string name, long rows, long values, bool sparse, int features, string path)
    {
        Partition.RequireLittleEndian();
        PartAssembler.Assemble(openPieces, name, recordsSparse: true, rows, values, sparse, features, path, new AssemblyBuffers(new BufferBudget()));
    }

    /// <summary>Refuses an output that would not fit in one partition (2 GiB), naming the partition count that fits.</summary>
    public static void CheckFits(long rows, long values, bool sparse, int features, string name, int partitions) =>
        PartAssembler.CheckFits(rows, values, sparse, features, name, partitions);
}
