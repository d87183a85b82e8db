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
}
