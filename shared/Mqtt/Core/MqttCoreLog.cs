using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt.Core;

/// <summary>Log messages of the own MQTT broker core; event ids 4400-4499.</summary>
internal static partial class MqttCoreLog
{
    [LoggerMessage(EventId = 4400, Level = LogLevel.Information, Message = "MQTT: own broker core serving ({Retained} retained messages loaded)")]
    public static partial void Started(ILogger logger, int retained);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Debug, Message = "MQTT connection from {RemoteEndPoint} (client {ClientId}) ended: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string remoteEndPoint, string clientId, string reason);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Warning, Message = "MQTT connection from {RemoteEndPoint} (client {ClientId}) closed: {Reason}; {Suppressed} similar closes not logged")]
    public static partial void ConnectionClosed(ILogger logger, string remoteEndPoint, string clientId, string reason, long suppressed);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Warning, Message = "MQTT CONNECT from {ClientId} at {RemoteEndPoint} refused: {MaxConnections} clients connected (--mqtt-max-connections); {Suppressed} similar refusals not logged")]
    public static partial void ConnectionRefused(ILogger logger, string clientId, string remoteEndPoint, int maxConnections, long suppressed);

    [LoggerMessage(EventId = 4404, Level = LogLevel.Warning, Message = "MQTT: {Count} queued messages dropped (oldest first) for subscribers over --mqtt-max-queued {MaxQueued}, {Total} since start; latest for client {ClientId}")]
    public static partial void QueuedMessagesDropped(ILogger logger, long count, long total, string clientId, int maxQueued);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Debug, Message = "MQTT: a {Size}-byte PUBLISH for client {ClientId} was dropped: larger than its Maximum Packet Size {Maximum}")]
    public static partial void TooLargeForClient(ILogger logger, string clientId, int size, uint maximum);

    [LoggerMessage(EventId = 4406, Level = LogLevel.Warning, Message = "MQTT PUBLISH from {ClientId} refused: '{MqttTopic}' is not a topic name (empty, or holds '+', '#' or U+0000); connection closed")]
    public static partial void InvalidTopic(ILogger logger, string clientId, string mqttTopic);

    [LoggerMessage(EventId = 4407, Level = LogLevel.Information, Message = "MQTT: session {ClientId} expired")]
    public static partial void SessionExpired(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4408, Level = LogLevel.Debug, Message = "MQTT: will of {ClientId} to '{MqttTopic}' published")]
    public static partial void WillPublished(ILogger logger, string clientId, string mqttTopic);
}
