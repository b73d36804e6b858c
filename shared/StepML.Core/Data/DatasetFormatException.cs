namespace StepML.Core.Data;

/// <summary>A dataset file cannot be read; the message is "&lt;file&gt;:&lt;line&gt;: &lt;problem&gt;" and says how to fix it.</summary>
public class DatasetFormatException(string file, long line, string message) : Exception($"{file}:{line}: {message}")
{
    public string FileName { get; } = file;

    public long LineNumber { get; } = line;
}
