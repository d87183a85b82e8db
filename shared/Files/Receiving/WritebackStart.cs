using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Files.Receiving;

/// <summary>
/// Starts writing a file's dirty pages to disk without waiting (Linux <c>sync_file_range</c>). Called on every
/// file of a batch before the first of them is fsynced, so that the file system allocates all their blocks in
/// one journal transaction: the first fsync commits it and the others find their metadata durable already,
/// instead of each fsync committing a transaction of its own. A hint only: a no-op where unsupported, and
/// errors are ignored (the fsync that follows is what guarantees durability).
/// </summary>
internal static partial class WritebackStart
{
    private const uint SyncFileRangeWrite = 2;

    public static void Begin(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
