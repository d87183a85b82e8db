using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>Log messages of the uplink sender (event ids 5100-5199).</summary>
internal static partial class UplinkSenderLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Uplink: forwarding to {Parents} as {Role} {NodeId} (window {Window} frames of up to {MaxFrame}, read-ahead {ReadAhead}, rate {Rate})")]
    public static partial void Starting(ILogger logger, string parents, string role, string nodeId, int window, string maxFrame, string readAhead, string rate);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Uplink: connecting to parent {Parent}")]
    public static partial void Connecting(ILogger logger, string parent);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Uplink: connected to parent {Parent}")]
    public static partial void Connected(ILogger logger, string parent);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Uplink: connection to {Parent} failed ({Reason}); reconnect attempt {Attempt} in {DelayMs} ms")]
    public static partial void Reconnecting(ILogger logger, string parent, string reason, int attempt, long delayMs);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Uplink: failing over from parent {From} to {To} after {Failures} failed attempts")]
    public static partial void FailingOver(ILogger logger, string from, string to, int failures);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Information, Message = "Uplink: trying the preferred parent {Parent} again (on {Fallback} for {Seconds} s)")]
    public static partial void ProbingPreferred(ILogger logger, string parent, string fallback, long seconds);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Error, Message = "Uplink: parent {Parent} refused frame {FrameId} of {Topic}-{Partition} as INVALID: {Message}")]
    public static partial void Invalid(ILogger logger, string parent, ulong frameId, string topic, int partition, string message);

    [LoggerMessage(EventId = 5120, Level = LogLevel.Error, Message = "Uplink: parent {Parent} cannot store {Topic}-{Partition} ({Message}); that partition is held back, its data kept, and tried again in {DelaySeconds} s (raise max.message.bytes of the parent's topic)")]
    public static partial void Rejected(ILogger logger, string parent, string topic, int partition, string message, long delaySeconds);

    [LoggerMessage(EventId = 5121, Level = LogLevel.Error, Message = "Uplink: parent {Parent} refuses node {NodeId}: it is revoked there ({Message}). Nothing is lost: the data stays here and is sent once the node is unrevoked; retrying with backoff up to {MaxBackoffSeconds} s")]
    public static partial void Revoked(ILogger logger, string parent, string nodeId, string message, long maxBackoffSeconds);

    [LoggerMessage(EventId = 5122, Level = LogLevel.Warning, Message = "Uplink: parent {Parent} refuses {Topic}-{Partition}: {Message}; that partition is held back, its data kept, and tried again in {DelaySeconds} s")]
    public static partial void OriginRevoked(ILogger logger, string parent, string topic, int partition, string message, long delaySeconds);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Uplink: parent {Parent} answered {Code} for {Topic}-{Partition} ({Message}); sending it again in {DelayMs} ms")]
    public static partial void RetryLater(ILogger logger, string parent, string code, string topic, int partition, string message, long delayMs);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "Uplink: {Topic}-{Partition}: {Count} records from offset {From} were deleted locally (retention or drop-oldest) before they were forwarded; continuing at {To}")]
    public static partial void Skipped(ILogger logger, string topic, int partition, long count, long from, long to);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Warning, Message = "Uplink: {Topic}-{Partition}: cursor {Cursor} is past the log end {End} (topic re-created?); starting again at {Start}")]
    public static partial void CursorReset(ILogger logger, string topic, int partition, long cursor, long end, long start);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Information, Message = "Uplink: forwarding {Topic} as {Target} ({Partitions} partitions, priority {Priority})")]
    public static partial void Forwarding(ILogger logger, string topic, string target, int partitions, int priority);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Error, Message = "Uplink: {Topic}-{Partition} at offset {Offset} cannot be read: {Reason}")]
    public static partial void ReadFailed(ILogger logger, string topic, int partition, long offset, string reason);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Error, Message = "Uplink: topic {Topic} cannot go up as {Target}: not a valid topic name")]
    public static partial void BadTarget(ILogger logger, string topic, string target);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Uplink: cursors could not be saved: {Reason}")]
    public static partial void CursorSaveFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5115, Level = LogLevel.Information, Message = "Uplink: parent is now {Parent} (chosen by the mesh); {Previous} closed without waiting for a reconnect backoff")]
    public static partial void FollowingParent(ILogger logger, string parent, string previous);

    [LoggerMessage(EventId = 5116, Level = LogLevel.Information, Message = "Uplink: no parent chosen yet; storing locally until the mesh names one")]
    public static partial void WaitingForParent(ILogger logger);

    [LoggerMessage(EventId = 5117, Level = LogLevel.Warning, Message = "Uplink: membership says parent {Parent} is down; moving on to {Next} now")]
    public static partial void ParentDown(ILogger logger, string parent, string next);

    [LoggerMessage(EventId = 5114, Level = LogLevel.Information, Message = "Uplink: stopped; {Frames} frames acknowledged")]
    public static partial void Stopped(ILogger logger, long frames);
}
