using System.Runtime.InteropServices;

namespace EdgeStream;

/// <summary>
/// fsync of a directory, so that a newly created or renamed file (a log segment, a received file)
/// survives a power cut (POSIX makes the name durable only when its directory is synced). A no-op
/// where unsupported.
/// </summary>
public static partial class DirectorySync
{
    private const int O_RDONLY = 0;

    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
        var fd = Open(directory, O_RDONLY);
        if (fd < 0) return; // best effort: the data itself was already fsynced
        try { _ = Fsync(fd); }
        finally { _ = Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
