using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// Log messages of the own MQTT broker core; event ids 4400-4499. Closes, refusals and queue drops
/// share the connection guard's messages (4100-4103), so an event has one id under either engine.
/// </summary>
internal static partial class MqttCoreLog
{
    [LoggerMessage(EventId = 4400, Level = LogLevel.Information, Message = "MQTT: own broker core serving ({Retained} retained messages loaded)")]
    public static partial void Started(ILogger logger, int retained);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Debug, Message = "MQTT connection from {RemoteEndPoint} (client {ClientId}) ended: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string remoteEndPoint, string clientId, string reason);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Debug, Message = "MQTT: a {Size}-byte PUBLISH for client {ClientId} was dropped: larger than its Maximum Packet Size {Maximum}")]
    public static partial void TooLargeForClient(ILogger logger, string clientId, int size, uint maximum);

    [LoggerMessage(EventId = 4407, Level = LogLevel.Information, Message = "MQTT: session {ClientId} expired")]
    public static partial void SessionExpired(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4408, Level = LogLevel.Debug, Message = "MQTT: will of {ClientId} to '{MqttTopic}' published")]
    public static partial void WillPublished(ILogger logger, string clientId, string mqttTopic);

    [LoggerMessage(EventId = 4409, Level = LogLevel.Debug, Message = "MQTT: session {ClientId} fell behind (--mqtt-max-queued {MaxQueued} reached): its QoS 1/2 messages are read from the log as it catches up")]
    public static partial void ReadingFromLog(ILogger logger, string clientId, int maxQueued);

    [LoggerMessage(EventId = 4410, Level = LogLevel.Debug, Message = "MQTT: session {ClientId} caught up with the log: queuing live again")]
    public static partial void CaughtUp(ILogger logger, string clientId);

    [LoggerMessage(EventId = 4411, Level = LogLevel.Warning, Message = "MQTT: retention deleted {Count} log records session {ClientId} had not read yet; its messages among them are lost (logged once per session)")]
    public static partial void OwedMessagesDeleted(ILogger logger, string clientId, long count);

    [LoggerMessage(EventId = 4412, Level = LogLevel.Warning, Message = "MQTT: reading the log for session {ClientId} failed: {Reason}; retried when its queue drains")]
    public static partial void CatchUpFailed(ILogger logger, string clientId, string reason);
}
