namespace EdgeStream.Files.Sending;

/// <summary>A regular file to send: where it is, and the relative path the receiver files it under.</summary>
public sealed record SourceFile(string FullPath, string Name);

/// <summary>What the command line named, expanded: the files to send and what was left out, with why.</summary>
public sealed record SendSources(IReadOnlyList<SourceFile> Files, IReadOnlyList<(string Path, string Reason)> Refused, IReadOnlyList<string> SymlinksSkipped);

/// <summary>
/// Expands PATH arguments: a file is sent under its own name, a directory recursively under its name
/// with relative paths kept. <c>--as NAME</c> replaces the name of a single argument. Symbolic links are
/// never followed (a link could lead anywhere on the sender's disk); they are listed as skipped.
/// </summary>
public static class SendSourceScanner
{
    public static SendSources Scan(IReadOnlyList<string> paths, string? asName)
    {
        if (asName is not null && paths.Count != 1) throw new FilesException("--as names one PATH; give a single file or directory with it");
        if (asName is not null && !IsPlainName(asName)) throw new FilesException($"--as '{asName}': give a relative path of names separated by '/', without '.', '..' or empty parts");
        var files = new List<SourceFile>();
        var refused = new List<(string, string)>();
        var links = new List<string>();
        foreach (var path in paths)
        {
            var full = Path.GetFullPath(path);
            var trimmed = Path.TrimEndingDirectorySeparator(full);
            FileSystemInfo info = Directory.Exists(trimmed) ? new DirectoryInfo(trimmed) : new FileInfo(trimmed);
            if (!info.Exists)
            {
                refused.Add((path, "no such file or directory"));
                continue;
            }
            var root = asName ?? info.Name;
            if (info.LinkTarget is not null)
            {
                links.Add(path);
                continue;
            }
            if (info is FileInfo) files.Add(new SourceFile(info.FullName, root));
            else Walk((DirectoryInfo)info, root, files, refused, links);
        }
        return new SendSources(files, refused, links);
    }

    private static void Walk(DirectoryInfo directory, string prefix, List<SourceFile> files, List<(string, string)> refused, List<string> links)
    {
        // Depth first with an explicit stack, sorted, so the order is stable and a deep tree cannot overflow the call stack.
        var pending = new Stack<(DirectoryInfo Dir, string Prefix)>();
        pending.Push((directory, prefix));
        while (pending.Count > 0)
        {
            var (dir, name) = pending.Pop();
            FileSystemInfo[] entries;
            try
            {
                entries = dir.GetFileSystemInfos();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                refused.Add((dir.FullName, ex.Message));
                continue;
            }
            Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirectories = new List<(DirectoryInfo, string)>();
            foreach (var entry in entries)
            {
                var relative = name + "/" + entry.Name;
                if (entry.LinkTarget is not null) links.Add(entry.FullName);
                else if (entry is DirectoryInfo d) subdirectories.Add((d, relative));
                else if (entry is FileInfo f && (f.Attributes & FileAttributes.Device) == 0) files.Add(new SourceFile(f.FullName, relative));
                else refused.Add((entry.FullName, "not a regular file"));
            }
            for (var i = subdirectories.Count - 1; i >= 0; i--) pending.Push(subdirectories[i]);
        }
    }

    /// <summary>A relative path of one or more names joined by '/', none empty, '.' or '..'.</summary>
    public static bool IsPlainName(string name)
    {
        if (name.Length == 0 || name.Contains('\0') || name.Contains('\\')) return false;
        foreach (var part in name.Split('/'))
            if (part.Length == 0 || part is "." or "..") return false;
        return true;
    }
}
