using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Receiving;

internal static partial class UplinkReceiverLog
{
    [LoggerMessage(EventId = 5500, Level = LogLevel.Information, Message = "Uplink from {Child} ({Peer}) connected")]
    public static partial void ChildConnected(ILogger logger, ChildIdentity child, string peer);

    [LoggerMessage(EventId = 5501, Level = LogLevel.Information, Message = "Uplink from {Child} disconnected after {Frames} frames")]
    public static partial void ChildDisconnected(ILogger logger, ChildIdentity child, long frames);

    [LoggerMessage(EventId = 5502, Level = LogLevel.Warning, Message = "Uplink stream from {Peer} refused: {Reason}")]
    public static partial void StreamRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 5503, Level = LogLevel.Warning, Message = "Invalid uplink frame {FrameId} from {Child}, closing its stream: {Reason}")]
    public static partial void InvalidFrame(ILogger logger, ChildIdentity child, ulong frameId, string reason);

    [LoggerMessage(EventId = 5504, Level = LogLevel.Debug, Message = "Uplink frame {FrameId} from {Child}: {Records} records already stored (duplicate)")]
    public static partial void Duplicate(ILogger logger, ChildIdentity child, ulong frameId, int records);

    [LoggerMessage(EventId = 5505, Level = LogLevel.Warning, Message = "Uplink frame {FrameId} from {Child} not stored ({Code}): {Reason}")]
    public static partial void NotStored(ILogger logger, ChildIdentity child, ulong frameId, string code, string reason);

    [LoggerMessage(EventId = 5506, Level = LogLevel.Error, Message = "Uplink frame {FrameId} from {Child} failed unexpectedly; answered UNAVAILABLE")]
    public static partial void Unexpected(ILogger logger, ChildIdentity child, ulong frameId, Exception exception);

    [LoggerMessage(EventId = 5507, Level = LogLevel.Information, Message = "Uplink created topic {Topic} with {Partitions} partitions for origin {Origin}")]
    public static partial void TopicCreated(ILogger logger, string topic, int partitions, string origin);

    [LoggerMessage(EventId = 5508, Level = LogLevel.Warning, Message = "Uplink stream from {Child} ended with an error: {Reason}")]
    public static partial void StreamFailed(ILogger logger, ChildIdentity child, string reason);

    [LoggerMessage(EventId = 5509, Level = LogLevel.Warning, Message = "Uplink stream from {Child} closed at frame {FrameId}: the node is revoked")]
    public static partial void RevokedStreamClosed(ILogger logger, ChildIdentity child, ulong frameId);

    [LoggerMessage(EventId = 5510, Level = LogLevel.Warning, Message = "Uplink stream from {Child} ({Peer}) refused: the node is revoked")]
    public static partial void RevokedStreamRefused(ILogger logger, ChildIdentity child, string peer);
}
