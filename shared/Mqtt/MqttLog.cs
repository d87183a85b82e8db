using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt;

/// <summary>Log messages of the MQTT broker service and the Kafka → MQTT follower; event ids 4000-4099.</summary>
internal static partial class MqttLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "MQTT bridge: PUBLISH matching '{Filter}' goes to log topic '{Topic}'")]
    public static partial void BridgeStarted(ILogger logger, string filter, string topic);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "MQTT bridge: Kafka records in {Topic}-{Partition} from offset {Offset} go out to MQTT subscribers (MQTT topic = key)")]
    public static partial void Following(ILogger logger, string topic, int partition, long offset);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "MQTT bridge: following {Topic}-{Partition} failed: {Reason}")]
    public static partial void FollowFailed(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "MQTT PUBLISH from {ClientId} to '{MqttTopic}' (QoS {Qos}) refused: {Reason}")]
    public static partial void PublishRefused(ILogger logger, string clientId, string mqttTopic, int qos, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "MQTT QoS 0 PUBLISH to '{MqttTopic}' dropped: {Reason}")]
    public static partial void Qos0Dropped(ILogger logger, string mqttTopic, string reason);
}
