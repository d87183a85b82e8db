using MQTTnet;

namespace EdgeStream.Mqtt;

/// <summary>
/// Hands a message to the broker's subscribers as if a client had published it, without appending
/// it to the log (Kafka → MQTT, <see cref="MqttLogFollower"/>). Implemented by both brokers (<see cref="MqttEngine"/>).
/// </summary>
public interface IMqttMessageInjector
{
    Task InjectAsync(MqttApplicationMessage message, string senderClientId, CancellationToken cancellationToken = default);
}
