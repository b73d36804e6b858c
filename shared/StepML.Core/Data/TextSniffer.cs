namespace StepML.Core.Data;

/// <summary>
/// Looks at the first bytes of a LIBSVM or CSV file before parsing, so that a compressed, binary, UTF-16 or
/// wrongly named file fails with one message saying what it is and how to fix it, instead of a parse error on
/// line 1 that quotes garbage. A UTF-8 byte-order mark is accepted and skipped.
/// </summary>
public static class TextSniffer
{
    /// <summary>How many leading bytes <see cref="Check"/> looks at (more is ignored).</summary>
    public const int HeadBytes = 8192;

    private static readonly byte[] s_utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Throws <see cref="DatasetFormatException"/> (line 1) when <paramref name="head"/>, the start of the file, is
    /// not plain text of the expected format; otherwise returns the number of bytes to skip (3 for a UTF-8 BOM, else 0).
    /// </summary>
    /// <param name="complete">Whether <paramref name="head"/> is the whole file (a short file).</param>
    public static int Check(ReadOnlySpan<byte> head, string source, DatasetFormat? format, bool complete)
    {
        if (head.Length > HeadBytes)
        {
            head = head[..HeadBytes];
            complete = false;
        }

        string? container = Container(head);
        if (container is not null)
        {
            throw new DatasetFormatException(source, 1, container);
        }

        if (head.StartsWith(new byte[] { 0xFF, 0xFE }) || head.StartsWith(new byte[] { 0xFE, 0xFF }))
        {
            throw new DatasetFormatException(
                source, 1, "this is UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8) and upload it again.");
        }

        int skip = head.StartsWith(s_utf8Bom) ? s_utf8Bom.Length : 0;
        ReadOnlySpan<byte> text = head[skip..];
        if (!LooksLikeText(text))
        {
            throw new DatasetFormatException(
                source, 1, $"not a text file (it holds NUL or control bytes): {(format is { } f ? $"dataset.format \"{Name(f)}\"" : "this reader")} reads plain-text lines. If it is IDX or CIFAR-10 image data, set dataset.format to \"idx\" or \"cifar\".");
        }

        CheckFormat(FirstDataLine(text, complete), source, format);
        return skip;
    }

    // Magic numbers of the containers people upload by mistake.
    private static string? Container(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith(new byte[] { 0x1F, 0x8B }))
        {
            return "this is gzip-compressed: decompress it (gunzip FILE) and use the plain file, or, if it holds IDX images, set dataset.format to \"idx\" (which reads .gz).";
        }

        if (head.StartsWith("PK\u0003\u0004"u8))
        {
            return "this is a ZIP archive: extract it (unzip FILE) and point dataset.path at the LIBSVM or CSV file inside.";
        }

        if (head.Length >= 10 && head.StartsWith("BZh"u8) && head[3] is >= (byte)'1' and <= (byte)'9' && head[4] == 0x31 && head[5] == 0x41)
        {
            return "this is bzip2-compressed: decompress it (bunzip2 FILE) and use the plain file.";
        }

        if (head.StartsWith(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00 }))
        {
            return "this is xz-compressed: decompress it (unxz FILE) and use the plain file.";
        }

        if (head.StartsWith(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }))
        {
            return "this is zstd-compressed: decompress it (unzstd FILE) and use the plain file.";
        }

        if (head.StartsWith("PAR1"u8))
        {
            return "this is a Parquet file: export it to CSV or LIBSVM text first.";
        }

        return null;
    }

    // Text has no NUL bytes and almost no other control bytes (tab, CR, LF and form feed are fine).
    private static bool LooksLikeText(ReadOnlySpan<byte> text)
    {
        int control = 0;
        foreach (byte b in text)
        {
            if (b == 0)
            {
                return false;
            }

            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C))
            {
                control++;
            }
        }

        return control * 100 <= text.Length;
    }

    // The first line that is neither blank nor a comment, cut at '#'; empty when the head holds none in full.
    private static ReadOnlySpan<byte> FirstDataLine(ReadOnlySpan<byte> text, bool complete)
    {
        while (text.Length > 0)
        {
            int newline = text.IndexOf((byte)'\n');
            if (newline < 0 && !complete)
            {
                return default;
            }

            ReadOnlySpan<byte> line = newline < 0 ? text : text[..newline];
            text = newline < 0 ? default : text[(newline + 1)..];
            int hash = line.IndexOf((byte)'#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            if (!line.Trim(" \t\r"u8).IsEmpty)
            {
                return line;
            }
        }

        return default;
    }

    private static void CheckFormat(ReadOnlySpan<byte> line, string source, DatasetFormat? format)
    {
        if (line.IsEmpty || format is null)
        {
            return;
        }

        bool commas = line.Contains((byte)',');
        bool pairs = HasIndexValuePair(line);
        if (format == DatasetFormat.Csv && pairs && !commas)
        {
            throw new DatasetFormatException(
                source, 1, "this looks like LIBSVM (index:value pairs, no commas) but is read as CSV: set dataset.format to \"libsvm\" or give the file a .libsvm extension.");
        }

        if (format == DatasetFormat.LibSvm && commas && !pairs)
        {
            throw new DatasetFormatException(
                source, 1, "this looks like CSV (comma-separated, no index:value pairs) but is read as LIBSVM: set dataset.format to \"csv\" or give the file a .csv extension.");
        }
    }

    // A token "digits:" somewhere after the first one.
    private static bool HasIndexValuePair(ReadOnlySpan<byte> line)
    {
        for (int i = 1; i < line.Length; i++)
        {
            if (line[i] == (byte)':' && line[i - 1] is >= (byte)'0' and <= (byte)'9')
            {
                return true;
            }
        }

        return false;
    }

    private static string Name(DatasetFormat format) => format == DatasetFormat.Csv ? "csv" : "libsvm";
}
