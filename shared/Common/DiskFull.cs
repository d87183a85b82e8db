namespace EdgeStream;

/// <summary>
/// Whether an I/O error means the disk (or the user's quota) is full: the one error a writer answers by refusing new
/// data rather than by failing, so the log and the files receiver must recognise it alike. .NET surfaces ENOSPC with
/// the errno as HResult on Unix and with the Win32 codes on Windows; the message check covers wrappers that lose it.
/// </summary>
public static class DiskFull
{
    public static bool Is(IOException ex) =>
        ex.HResult is 28 /* ENOSPC */ or 122 /* EDQUOT */ or 112 /* ERROR_DISK_FULL, raw */ or unchecked((int)0x80070070) /* ERROR_DISK_FULL */ or unchecked((int)0x80070027) /* ERROR_HANDLE_DISK_FULL */
        || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || ex.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);
}
