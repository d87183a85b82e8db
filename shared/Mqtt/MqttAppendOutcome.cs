using EdgeStream.Mqtt.Persistence;
using Microsoft.Extensions.Logging;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt;

/// <summary>What both brokers (<see cref="MqttEngine"/>) do with the outcome of a log append they did not wait for.</summary>
internal static class MqttAppendOutcome
{
    /// <summary>Turns a PUBACK or PUBREC into the MQTT 5 refusal for <paramref name="failure"/> (<see cref="MqttBridgeException.ReasonFor"/>).</summary>
    public static void Refuse(MqttPacket ack, Exception? failure)
    {
        var (code, reason) = MqttBridgeException.ReasonFor(failure);
        switch (ack)
        {
            case MqttPubAckPacket pubAck:
                pubAck.ReasonCode = code;
                pubAck.ReasonString = reason;
                break;
            case MqttPubRecPacket pubRec:
                pubRec.ReasonCode = (MqttPubRecReasonCode)(int)code;
                pubRec.ReasonString = reason;
                break;
        }
    }

    /// <summary>A QoS 0 append nobody waits for: a failure is logged and counted, nothing else.</summary>
    public static async Task ObserveQos0Async(ValueTask<LogPosition> append, string topic, ILogger logger)
    {
        try
        {
            await append.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MqttLog.Qos0Dropped(logger, topic, ex.Message);
            MqttMetrics.Drop("qos0_append_failed");
        }
    }
}
