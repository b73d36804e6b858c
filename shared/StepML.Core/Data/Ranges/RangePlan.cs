namespace StepML.Core.Data;

/// <summary>One file of a dataset (a single object, or one of the objects under a prefix), in plan order.</summary>
public sealed record DatasetFile(string Key, long Size);

/// <summary>Bytes [Start, End) of file <see cref="File"/>; its task owns every line that starts inside.</summary>
public sealed record ByteRange(int File, long Start, long End)
{
    /// <summary>Where the task starts reading: one byte early, to see whether a line starts exactly at Start.</summary>
    public long ReadFrom => Start == 0 ? 0 : Start - 1;
}

/// <summary>
/// Cuts the files of a dataset into byte ranges of at most <c>rangeBytes</c>, in file order. The plan is a pure
/// function of the file sizes and the range size, so a task needs only its index to find its range, and the state
/// carries indices, never the ranges themselves. A line belongs to the range its first byte falls in: a task skips
/// the partial line it starts in (unless it starts at 0) and finishes the line that crosses its end, so every line is
/// read by exactly one task whatever the range size.
/// </summary>
public static class RangePlan
{
    public static int Count(IReadOnlyList<DatasetFile> files, long rangeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rangeBytes, 1);
        long count = 0;
        foreach (var file in files)
        {
            count += (file.Size + rangeBytes - 1) / rangeBytes;
        }

        return count <= int.MaxValue ? (int)count : throw new ArgumentException($"{count} ranges: use a larger range size.");
    }

    public static ByteRange At(IReadOnlyList<DatasetFile> files, long rangeBytes, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        long remaining = index;
        for (int f = 0; f < files.Count; f++)
        {
            long inFile = (files[f].Size + rangeBytes - 1) / rangeBytes;
            if (remaining < inFile)
            {
                long start = remaining * rangeBytes;
                return new ByteRange(f, start, Math.Min(files[f].Size, start + rangeBytes));
            }

            remaining -= inFile;
        }

        throw new ArgumentOutOfRangeException(nameof(index), index, $"the plan has {Count(files, rangeBytes)} ranges.");
    }
}
