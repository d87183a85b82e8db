namespace EdgeStream.Hosting;

/// <summary>
/// An exclusive lock on <c>{data}/.lock</c>, held for the life of a node (or an fsck), so two
/// processes never share a data directory. On Linux .NET takes an advisory <c>flock</c>, which the
/// kernel releases if the process dies, so a crash never leaves a stale lock behind.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _stream;

    private DataDirectoryLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock; an <see cref="EdgeStreamException"/> when another process holds it.</summary>
    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, ".lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            stream.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            stream.Write(pid);
            stream.Flush();
            return new DataDirectoryLock(stream);
        }
        catch (IOException ex)
        {
            var holder = TryReadHolder(path);
            throw new EdgeStreamException(
                $"data directory '{dataDirectory}' is in use by another edgestream process{(holder is null ? "" : $" (pid {holder})")}: {ex.Message}", ex);
        }
    }

    private static string? TryReadHolder(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            var text = r.ReadLine()?.Trim();
            return string.IsNullOrEmpty(text) ? null : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
