namespace StepML.Core.Tensors;

/// <summary>A tensor file is malformed: bad magic, version, dtype, shape, length or truncation.</summary>
public class TensorFormatException(string source, string message) : Exception($"{source}: {message}")
{
    public string SourceName { get; } = source;
}

/// <summary>A CRC32C mismatch in a tensor file's header or one of its blocks.</summary>
public sealed class TensorChecksumException(string source, string message) : TensorFormatException(source, message);
