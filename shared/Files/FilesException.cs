namespace EdgeStream.Files;

/// <summary>Root of the files library's exceptions: a file that cannot be sent, stored or trusted.</summary>
public class FilesException : EdgeStreamException
{
    public FilesException(string message) : base(message) { }
    public FilesException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The receiver's disk is full: the partial file is kept and nothing after it is acknowledged.</summary>
public sealed class FilesDiskFullException : FilesException
{
    public FilesDiskFullException(string message, Exception inner) : base(message, inner) { }
}
