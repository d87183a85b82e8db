namespace EdgeStream.Files.Sending;

/// <summary>What a sender reports as it goes; the command line turns it into a bar, lines or JSON.</summary>
public interface IFileSendProgress
{
    /// <summary>Before the first byte: how many files and bytes the run covers.</summary>
    void Started(int files, long bytes);
    /// <summary>A file that was fully sent before and has not changed since: not sent again.</summary>
    void Unchanged(SourceFile file, long size);
    /// <summary>A file an earlier run left half-sent: its first <paramref name="skippedChunks"/> chunks are acknowledged already.</summary>
    void Resumed(SourceFile file, int skippedChunks, long skippedBytes);
    /// <summary>The broker acknowledged <paramref name="bytes"/> more of <paramref name="file"/>.</summary>
    void Acknowledged(SourceFile file, long bytes);
    /// <summary>Every chunk and the manifest of the file are acknowledged.</summary>
    void Completed(SourceFile file, long size);
    /// <summary>The file could not be sent; the run goes on with the others.</summary>
    void Failed(SourceFile file, string error);
    /// <summary>A connection failed; the sender reconnects and resends what was not acknowledged.</summary>
    void Retrying(string error, int attempt);
}

/// <summary>The outcome of a run: exit 0 when <see cref="Failed"/> is 0.</summary>
public sealed record SendSummary(int Files, int Sent, int Unchanged, int Failed, long BytesSent, long BytesSkipped, TimeSpan Elapsed);
