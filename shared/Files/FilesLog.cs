using Microsoft.Extensions.Logging;

namespace EdgeStream.Files;

/// <summary>The receiver's log messages (7000s; the library owns 7000-7999).</summary>
internal static partial class FilesLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "File {Path} from {Origin} complete: {Size} bytes in {Chunks} chunks, SHA-256 {Sha256}, at {Target}")]
    public static partial void FileCompleted(ILogger logger, string origin, string path, long size, int chunks, string sha256, string target);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Chunk {Index} of {Path} from {Origin} (file {FileId}) does not match its SHA-256: not written, the file stays incomplete until a good copy arrives")]
    public static partial void BadChunk(ILogger logger, string origin, string path, string fileId, int index);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "File {Path} from {Origin} (file {FileId}): every chunk arrived but the whole file does not match the manifest's SHA-256; it is not materialized")]
    public static partial void HashMismatch(ILogger logger, string origin, string path, string fileId);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Record at {Partition}/{Offset} skipped: {Reason}")]
    public static partial void Rejected(ILogger logger, int partition, long offset, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "File {Path} from {Origin} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string origin, string path, string reason);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "File {Path} put in place at start, at {Target}: it was complete and recorded before the receiver stopped, the rename was not done yet")]
    public static partial void Redone(ILogger logger, string path, string target);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "Files receiver writing to {Directory} from topic {Topic} as group {Group}")]
    public static partial void Started(ILogger logger, string directory, string topic, string group);
}
