using System.Buffers;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

public sealed class MqttMessageExpiryTests
{
    private static (MqttApplicationMessage Message, MqttPublishPacket Packet) Dispatched(uint interval, MqttQualityOfServiceLevel qos, long nowMs)
    {
        var message = new MqttApplicationMessage
        {
            Topic = "t/x",
            Payload = new ReadOnlySequence<byte>("payload"u8.ToArray()),
            MessageExpiryInterval = interval,
            QualityOfServiceLevel = qos,
        };
        MqttMessageExpiry.Stamp(message, nowMs);
        // MQTTnet's outbound packet is a copy sharing the payload buffer.
        var packet = new MqttPublishPacket
        {
            Topic = message.Topic,
            Payload = message.Payload,
            MessageExpiryInterval = message.MessageExpiryInterval,
            QualityOfServiceLevel = qos,
            PacketIdentifier = qos == MqttQualityOfServiceLevel.AtMostOnce ? (ushort)0 : (ushort)7,
        };
        return (message, packet);
    }

    [Fact]
    public void Refresh_NotExpired_IntervalIsTimeLeftRoundedUp()
    {
        var (_, packet) = Dispatched(10, MqttQualityOfServiceLevel.AtLeastOnce, nowMs: 1_000);

        Assert.True(MqttMessageExpiry.Refresh(packet, nowMs: 3_500));
        Assert.Equal(8u, packet.MessageExpiryInterval); // 7.5 s left
        // A resend (session resume) counts from the arrival again, not from the rewritten interval.
        Assert.True(MqttMessageExpiry.Refresh(packet, nowMs: 10_999));
        Assert.Equal(1u, packet.MessageExpiryInterval);
        Assert.Equal(7, packet.PacketIdentifier);
    }

    [Fact]
    public void Refresh_Expired_DroppedAndPacketIdCleared_ResendDroppedToo()
    {
        var (_, packet) = Dispatched(2, MqttQualityOfServiceLevel.AtLeastOnce, nowMs: 1_000);

        Assert.False(MqttMessageExpiry.Refresh(packet, nowMs: 3_000));
        Assert.Equal(0, packet.PacketIdentifier);
        // MQTTnet gives the packet a new id when it resends its unacknowledged list.
        packet.PacketIdentifier = 9;
        Assert.False(MqttMessageExpiry.Refresh(packet, nowMs: 3_001));
    }

    [Fact]
    public void Refresh_UnstampedPacket_SentUnchanged()
    {
        var packet = new MqttPublishPacket { Topic = "t/y", Payload = new ReadOnlySequence<byte>([1, 2, 3]), MessageExpiryInterval = 5 };

        Assert.True(MqttMessageExpiry.Refresh(packet, nowMs: long.MaxValue / 2));
        Assert.Equal(5u, packet.MessageExpiryInterval);
    }
}
