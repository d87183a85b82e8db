using Microsoft.Extensions.Logging;

namespace EdgeStream.Storage;

/// <summary>Source-generated log messages of the storage library; event ids 1000-1099.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1000, LogLevel.Information, "Opened log at {Directory}: {Topics} topics, {Partitions} partitions, {Bytes} bytes")]
    public static partial void Opened(ILogger logger, string directory, int topics, int partitions, long bytes);

    [LoggerMessage(1001, LogLevel.Warning, "Recovery of {Topic}-{Partition}: {Segment} had damage at position {Position} ({Length} bytes, {Reason}, tail: {IsTail}); {Action}")]
    public static partial void SegmentDamaged(ILogger logger, string topic, int partition, string segment, long position, long length, string reason, bool isTail, string action);

    [LoggerMessage(1002, LogLevel.Information, "Rebuilt the indexes of {Segment}")]
    public static partial void IndexRebuilt(ILogger logger, string segment);

    [LoggerMessage(1003, LogLevel.Debug, "Rolled {Topic}-{Partition} to a new segment at offset {BaseOffset}")]
    public static partial void Rolled(ILogger logger, string topic, int partition, long baseOffset);

    [LoggerMessage(1004, LogLevel.Information, "Retention deleted segment {Segment} of {Topic}-{Partition} ({Bytes} bytes, {Why})")]
    public static partial void SegmentDeleted(ILogger logger, string topic, int partition, string segment, long bytes, string why);

    [LoggerMessage(1005, LogLevel.Warning, "Append to {Topic}-{Partition} refused: {Reason}")]
    public static partial void AppendRefused(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(1006, LogLevel.Information, "Created topic {Topic} with {Partitions} partitions")]
    public static partial void TopicCreated(ILogger logger, string topic, int partitions);

    [LoggerMessage(1007, LogLevel.Information, "Deleted topic {Topic}")]
    public static partial void TopicDeleted(ILogger logger, string topic);

    [LoggerMessage(1008, LogLevel.Warning, "Ignoring {Path} in the log directory: {Why}")]
    public static partial void Ignored(ILogger logger, string path, string why);

    [LoggerMessage(1009, LogLevel.Warning, "Disk budget full: dropped segment {Segment} of {Topic}-{Partition}, offsets {FirstOffset}-{LastOffset} ({Records} records, {Bytes} bytes; disk.full.policy=drop-oldest, drop priority {Priority}); budget {Used}/{Max} bytes")]
    public static partial void SegmentDropped(ILogger logger, string topic, int partition, string segment, long firstOffset, long lastOffset, long records, long bytes, int priority, long used, long max);

    [LoggerMessage(1010, LogLevel.Error, "Disk budget full: could not delete the oldest segment of {Topic}-{Partition}; appends are refused until space is freed")]
    public static partial void DropFailed(ILogger logger, string topic, int partition, Exception exception);
}
