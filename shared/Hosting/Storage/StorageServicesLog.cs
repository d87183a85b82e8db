using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Storage;

/// <summary>Log messages of the storage services in this folder.</summary>
internal static partial class StorageServicesLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Opening log in {LogDirectory} (fsync {Fsync})")]
    public static partial void Opening(ILogger logger, string logDirectory, FsyncPolicy fsync);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Log open: {Topics} topics, {Partitions} partitions, {Used} used, {Repairs} segments repaired on recovery")]
    public static partial void Opened(ILogger logger, int topics, int partitions, string used, int repairs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Closing log: flushing and fsyncing")]
    public static partial void Closing(ILogger logger);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Log closed cleanly")]
    public static partial void Closed(ILogger logger);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Retention deleted {Segments} segments, freed {Freed}")]
    public static partial void RetentionRan(ILogger logger, int segments, string freed);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "Retention pass failed; retrying next interval")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Error, Message = "Background flush failed; retrying next interval")]
    public static partial void FlushFailed(ILogger logger, Exception exception);
}
