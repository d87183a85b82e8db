namespace EdgeStream.Files.Receiving;

/// <summary>
/// How the receiver's disk errors surface: a full disk or an I/O error becomes one clear exception (and the
/// status's last error), so the caller acknowledges nothing and the records are delivered again.
/// </summary>
internal static class DiskFailures
{
    public static void Run(Action action, string root, string what, FilesStatus status) => Run(() => { action(); return true; }, root, what, status);

    /// <param name="what">What was being written, for the message: <c>{origin}/{path}</c> or the journal.</param>
    public static T Run<T>(Func<T> action, string root, string what, FilesStatus status)
    {
        try
        {
            return action();
        }
        catch (IOException ex) when (DiskFull.Is(ex))
        {
            var message = $"disk full under {root} while writing {what}: {ex.Message}; the partial file is kept and nothing after the last durable chunk was acknowledged";
            status.Error(message);
            throw new FilesDiskFullException(message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var message = $"cannot write {what} under {root}: {ex.Message}";
            status.Error(message);
            throw new FilesException(message, ex);
        }
    }
}
