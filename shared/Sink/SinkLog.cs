using Microsoft.Extensions.Logging;

namespace EdgeStream.Sink;

/// <summary>Log messages of the sink to an external Kafka cluster (event ids 13000-13099).</summary>
internal static partial class SinkLog
{
    [LoggerMessage(EventId = 13000, Level = LogLevel.Information, Message = "Sink: forwarding to the Kafka cluster at {Bootstrap} over {Protocol}")]
    public static partial void Starting(ILogger logger, string bootstrap, string protocol);

    [LoggerMessage(EventId = 13001, Level = LogLevel.Information, Message = "Sink: {Topic}-{Partition} forwards to '{Target}' from local offset {Offset}")]
    public static partial void PartitionStarted(ILogger logger, string topic, int partition, string target, long offset);

    [LoggerMessage(EventId = 13002, Level = LogLevel.Warning, Message = "Sink: {Topic}-{Partition}: the external cluster failed ({Reason}); attempt {Attempt}, next in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string topic, int partition, string reason, int attempt, long delayMs);

    [LoggerMessage(EventId = 13003, Level = LogLevel.Information, Message = "Sink: {Topic}-{Partition} connected to the external cluster again")]
    public static partial void Recovered(ILogger logger, string topic, int partition);

    [LoggerMessage(EventId = 13004, Level = LogLevel.Information, Message = "Sink: '{Target}' partition {Partition}: waiting for origin {Origin} offsets {From}..{Before} that the external cluster lacks (another cloud node may still deliver them)")]
    public static partial void GapWaiting(ILogger logger, string target, int partition, string origin, long from, long before);

    [LoggerMessage(EventId = 13005, Level = LogLevel.Warning, Message = "Sink: '{Target}' partition {Partition}: origin {Origin} offsets {From}..{Before} did not arrive within {Seconds} s; writing from {Before} on, so that origin is out of order there if they come later")]
    public static partial void GapAccepted(ILogger logger, string target, int partition, string origin, long from, long before, long seconds);

    [LoggerMessage(EventId = 13006, Level = LogLevel.Warning, Message = "Sink: '{Target}' partition {Partition} holds {Count} records more than once (written by two cloud nodes at the same time); first at offset {Offset}")]
    public static partial void DuplicatesFound(ILogger logger, string target, int partition, long count, long offset);

    [LoggerMessage(EventId = 13007, Level = LogLevel.Warning, Message = "Sink: '{Target}' partition {Partition} is behind what this node knew of it (offset {Known}, now {End}): the external cluster lost data; rescanning it from {Start}")]
    public static partial void TargetReset(ILogger logger, string target, int partition, long known, long end, long start);

    [LoggerMessage(EventId = 13008, Level = LogLevel.Warning, Message = "Sink: {Topic}-{Partition}: local offsets {From}..{To} were deleted (retention or disk budget) before they were forwarded; {Records} records skipped")]
    public static partial void Skipped(ILogger logger, string topic, int partition, long from, long to, long records);

    [LoggerMessage(EventId = 13009, Level = LogLevel.Error, Message = "Sink: {Topic}-{Partition}: {Message}")]
    public static partial void Failed(ILogger logger, string topic, int partition, string message);

    [LoggerMessage(EventId = 13010, Level = LogLevel.Information, Message = "Sink: created topic '{Target}' with {Partitions} partitions at the external cluster")]
    public static partial void TopicCreated(ILogger logger, string target, int partitions);

    [LoggerMessage(EventId = 13011, Level = LogLevel.Error, Message = "Sink: {Topic}-{Partition}: the external cluster refused the connection's security ({Reason}); check --sink-sasl-* or --sink-tls-*; attempt {Attempt}, next in {DelayMs} ms")]
    public static partial void Refused(ILogger logger, string topic, int partition, string reason, int attempt, long delayMs);
}
