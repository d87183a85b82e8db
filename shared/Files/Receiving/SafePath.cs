using System.Text;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// Turns an origin name and a sender's path (hostile input) into a place under the receiver's directory,
/// or refuses. Accepted: names of 1-255 UTF-8 bytes joined by '/', none empty, '.', '..' or holding NUL,
/// '\' or a control character, 4096 bytes at most in all. Origins follow the node id rule and may not
/// start with '.', so they never meet the receiver's own <c>.edgestream-files</c> directory. Symbolic
/// links planted under the directory are refused where the file is placed (<see cref="PrepareDirectory"/>).
/// </summary>
public static class SafePath
{
    public const int MaxNameBytes = 255;
    public const int MaxPathBytes = 4096;

    /// <summary>The relative parts of <paramref name="path"/>, or null with the reason.</summary>
    public static string[]? Split(string path, out string reason)
    {
        reason = "";
        if (path.Length == 0) { reason = "empty path"; return null; }
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes) { reason = $"path longer than {MaxPathBytes} bytes"; return null; }
        if (path[0] == '/') { reason = "absolute path"; return null; }
        var parts = path.Split('/');
        foreach (var part in parts)
        {
            if (!IsSafeName(part, out reason)) return null;
        }
        return parts;
    }

    /// <summary>Whether <paramref name="origin"/> may name a directory under the receiver's root.</summary>
    public static bool IsSafeOrigin(string origin)
    {
        if (origin.Length is < 1 or > 64 || origin[0] == '.') return false;
        foreach (var c in origin)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        return true;
    }

    private static bool IsSafeName(string name, out string reason)
    {
        reason = "";
        if (name.Length == 0) { reason = "empty path component (// or a trailing /)"; return false; }
        if (name is "." or "..") { reason = $"'{name}' component"; return false; }
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes) { reason = $"a component longer than {MaxNameBytes} bytes"; return false; }
        foreach (var c in name)
        {
            if (c == '\0') { reason = "NUL in the path"; return false; }
            if (c == '\\') { reason = "'\\' in the path"; return false; }
            if (char.IsControl(c)) { reason = "a control character in the path"; return false; }
        }
        return true;
    }

    /// <summary>
    /// Creates the directories from <paramref name="root"/> down to the parent of the last part, one at a time,
    /// refusing when an existing one is a symbolic link or not a directory, and returns the full path of the
    /// file. The final name may exist as a file (a new version replaces it, rename does not follow a link
    /// there) but not as a directory.
    /// </summary>
    public static string PrepareDirectory(string root, IReadOnlyList<string> parts)
    {
        var current = root;
        for (var i = 0; i < parts.Count - 1; i++)
        {
            current = Path.Combine(current, parts[i]);
            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null) throw new FilesException($"refused: {current} is a symbolic link");
            if (File.Exists(current)) throw new FilesException($"refused: {current} is a file, not a directory");
            if (!info.Exists) Directory.CreateDirectory(current);
            // Created by someone else as a link in between: check again after creating.
            if (new DirectoryInfo(current).LinkTarget is not null) throw new FilesException($"refused: {current} is a symbolic link");
        }
        var target = Path.Combine(current, parts[^1]);
        if (Directory.Exists(target) && new DirectoryInfo(target).LinkTarget is null) throw new FilesException($"refused: {target} is a directory");
        return target;
    }
}
