namespace StepML.Storage;

/// <summary>
/// Containment for the folder store: the real path of a file (every symbolic link along it resolved, as the kernel
/// would) must lie inside the store's real root, so no link inside the store (to a file or a folder, relative or
/// absolute, chained or dangling) lets a read or write land outside it.
/// </summary>
internal static class StorePaths
{
    // As Linux's MAXSYMLINKS: a loop of links ends in an error instead of spinning.
    private const int MaxLinks = 40;

    /// <summary>The absolute path with every symbolic link resolved; components that do not exist are kept as written.</summary>
    public static string RealPath(string path)
    {
        var pending = new Stack<string>();
        Push(pending, Path.GetFullPath(path));
        var current = Path.GetPathRoot(Path.GetFullPath(path))!;
        var links = 0;
        while (pending.Count > 0)
        {
            var segment = pending.Pop();
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Join(current, segment);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"too many levels of symbolic links resolving '{path}'");
            // The link's target replaces it; a relative target is relative to the link's folder.
            var full = Path.IsPathRooted(target) ? target : Path.Join(current, target);
            current = Path.GetPathRoot(full)!;
            Push(pending, full);
        }
        return current;
    }

    /// <summary>Whether <paramref name="realPath"/> is <paramref name="realRoot"/> or below it.</summary>
    public static bool IsInside(string realPath, string realRoot) =>
        realPath == realRoot || realPath.StartsWith(Path.EndsInDirectorySeparator(realRoot) ? realRoot : realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void Push(Stack<string> pending, string path)
    {
        var root = Path.GetPathRoot(path)!;
        var segments = path[root.Length..].Split(Path.DirectorySeparatorChar);
        for (var i = segments.Length - 1; i >= 0; i--) pending.Push(segments[i]);
    }
}
