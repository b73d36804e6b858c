using StepML.Storage;

namespace StepML.Cli.Commands;

/// <summary>
/// Checks where an <c>--out</c> option points before any work is done, so a mistyped path fails at once (exit 2) with
/// the fix instead of after a long computation with .NET's "Could not find a part of the path", and never destroys what
/// is already written: the command's own input file, or an object of the store (a run's model, a dataset).
/// </summary>
internal static class OutputPaths
{
    /// <summary>The store's folders that only runs and imports write (see DESIGN.md, "Storage layout").</summary>
    private static readonly string[] s_storeFolders = ["runs", "partitions", "datasets", "jobs", "ledger", "searches"];

    /// <summary>The full path of an output file: its folder must exist, it must not be a folder, an input of the
    /// command, or inside the store's folders.</summary>
    /// <param name="inputs">Local files the command reads (an output over one of them would destroy it).</param>
    public static string File(string path, string option, IObjectStore? store = null, params string?[] inputs)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UsageException($"{option} '{path}' is a folder: give a file name (e.g. {Path.Combine(path, "NAME")})");
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new UsageException($"{option} '{path}': the folder '{folder}' does not exist: create it (mkdir -p '{folder}') or write elsewhere");
        foreach (var input in inputs)
            if (input is not null && SameFile(full, input))
                throw new UsageException($"{option} '{path}' is the file this command reads: writing it would destroy the input; give another file name");
        CheckOutsideStore(full, path, option, store);
        return full;
    }

    /// <summary>The full path of an output folder (created later by the command): not an existing file, not inside the
    /// store's folders.</summary>
    public static string Folder(string path, string option, IObjectStore? store = null)
    {
        var full = Path.GetFullPath(path);
        if (System.IO.File.Exists(full))
            throw new UsageException($"{option} '{path}' is a file: this command writes a folder of files; give a folder name (it is created)");
        CheckOutsideStore(full, path, option, store);
        return full;
    }

    /// <summary>Writes a file through a temporary file next to it, so a failure never leaves half a file and never
    /// truncates the file that was there before.</summary>
    public static async Task WriteAsync(string fullPath, Func<Stream, Task> write)
    {
        var temp = fullPath + ".tmp";
        try
        {
            await using (var stream = System.IO.File.Create(temp)) await write(stream).ConfigureAwait(false);
            System.IO.File.Move(temp, fullPath, overwrite: true);
        }
        finally
        {
            System.IO.File.Delete(temp);
        }
    }

    private static void CheckOutsideStore(string full, string path, string option, IObjectStore? store)
    {
        if (store is not FileObjectStore folderStore) return;
        var root = Path.GetFullPath(folderStore.Root);
        foreach (var name in s_storeFolders)
        {
            var reserved = Path.Combine(root, name) + Path.DirectorySeparatorChar;
            if ((full + Path.DirectorySeparatorChar).StartsWith(reserved, StringComparison.Ordinal))
                throw new UsageException($"{option} '{path}' is inside the store's {name}/ folder ({root}), which only runs write: give a path outside it");
        }
    }

    private static bool SameFile(string full, string input)
    {
        var other = Path.GetFullPath(input);
        if (string.Equals(full, other, StringComparison.Ordinal)) return true;
        // The same file under another name (a link): compare what the links resolve to.
        return System.IO.File.Exists(full) && System.IO.File.Exists(other)
            && string.Equals(Resolve(full), Resolve(other), StringComparison.Ordinal);
    }

    private static string Resolve(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
