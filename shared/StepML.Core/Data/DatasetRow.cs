namespace StepML.Core.Data;

/// <summary>
/// One parsed example. Readers reuse the same instance and its buffers: only the first
/// <see cref="Count"/> entries of <see cref="Indices"/> (0-based, ascending) and
/// <see cref="Values"/> belong to the current row.
/// </summary>
public sealed class DatasetRow
{
    public float Label;
    public int Count;
    public int[] Indices = new int[64];
    public float[] Values = new float[64];

    internal void Clear(float label)
    {
        Label = label;
        Count = 0;
    }

    internal void Add(int index, float value)
    {
        if (Count == Indices.Length)
        {
            Array.Resize(ref Indices, Count * 2);
            Array.Resize(ref Values, Count * 2);
        }

        Indices[Count] = index;
        Values[Count] = value;
        Count++;
    }
}

public enum DatasetFormat
{
    LibSvm,
    Csv,
}
