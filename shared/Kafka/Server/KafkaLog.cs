using Microsoft.Extensions.Logging;

namespace EdgeStream.Kafka.Server;

/// <summary>Source-generated log messages of the Kafka listener; event ids 2000-2099.</summary>
internal static partial class KafkaLog
{
    [LoggerMessage(2000, LogLevel.Debug, "Kafka connection {ConnectionId} from {Remote} opened")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, string? remote);

    [LoggerMessage(2001, LogLevel.Debug, "Kafka connection {ConnectionId} closed")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId);

    [LoggerMessage(2002, LogLevel.Information, "Kafka connection {ConnectionId} closed after a protocol violation: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string connectionId, string reason);

    [LoggerMessage(2003, LogLevel.Warning, "Kafka request {ApiKey} v{Version} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, short apiKey, short version);

    [LoggerMessage(2004, LogLevel.Information, "Kafka connection {ConnectionId}: unsupported API key {ApiKey} version {Version}; closing as Kafka does")]
    public static partial void UnsupportedRequest(ILogger logger, string connectionId, short apiKey, short version);

    [LoggerMessage(2005, LogLevel.Information, "Kafka connection {ConnectionId}: API key {ApiKey} before SASL authentication; closing as Kafka does")]
    public static partial void UnauthenticatedRequest(ILogger logger, string connectionId, short apiKey);
}
