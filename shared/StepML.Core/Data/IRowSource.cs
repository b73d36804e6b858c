namespace StepML.Core.Data;

/// <summary>A stream of dataset rows the <see cref="Partitioner"/> consumes: the text readers (LIBSVM, CSV) and the
/// binary image readers (IDX, CIFAR-10).</summary>
public interface IRowSource : IDisposable
{
    /// <summary>Line (text) or record (binary) number of the last row read, 1-based, for error messages.</summary>
    long LineNumber { get; }

    /// <summary>Bytes the reader buffers, for the partitioner's memory accounting.</summary>
    int BufferBytes { get; }

    /// <summary>Fills <paramref name="row"/> with the next row (indices ascending); false at the end.</summary>
    bool Read(DatasetRow row);
}
