using System.Runtime.CompilerServices;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt;

/// <summary>
/// MQTT 5 Message Expiry Interval (§3.3.2.3.3), which MQTTnet 5.2 does not enforce: it queues and
/// forwards a message however long it waited, with the interval it arrived with.
/// <para>
/// When a message with an interval is dispatched (or decoded from the log), its arrival is stamped
/// beside its payload buffer. MQTTnet's PUBLISH packets for subscribers and retained deliveries are
/// copies of the message that share that buffer, so the outbound hook finds the stamp from the
/// packet: an expired packet is not sent; any other gets the interval minus the time waited. Only
/// packets with an interval set do any of this work.
/// </para>
/// <para>
/// MQTTnet 5.2 keeps a QoS 1/2 PUBLISH in the session's unacknowledged list from enqueue until the
/// client acknowledges it, and offers no way to take it out. A packet dropped here is never
/// acknowledged, so it stays in that list (it is sent again on a session resume and dropped again);
/// its packet identifier is set to 0, which no client acknowledges, so a later packet that reuses
/// the identifier is not confused with it. The session tracker forgets it (see MqttSessionTracker).
/// </para>
/// </summary>
public static class MqttMessageExpiry
{
    /// <summary>When a message arrived, and the interval it had then, keyed by its payload buffer.</summary>
    private sealed class Arrival(long arrivedMs, uint interval, int index, long length)
    {
        public readonly long ArrivedMs = arrivedMs;
        public readonly uint Interval = interval;
        public readonly int Index = index;
        public readonly long Length = length;
    }

    private static readonly ConditionalWeakTable<object, Arrival> Stamps = new();
    // Packets dropped as expired: a copy sent again (MQTTnet resends its unacknowledged list when a session resumes) is dropped at once.
    private static readonly ConditionalWeakTable<MqttPublishPacket, object> Dropped = new();
    private static readonly object Mark = new();

    /// <summary>Monotonic milliseconds: a wall-clock step does not expire or revive messages.</summary>
    public static long NowMs => Environment.TickCount64;

    /// <summary>
    /// Records that <paramref name="message"/> (interval &gt; 0) starts waiting now. A message with an
    /// empty payload has no buffer of its own to key on: it keeps its interval unchanged.
    /// </summary>
    public static void Stamp(MqttApplicationMessage message) => Stamp(message, NowMs);

    public static void Stamp(MqttApplicationMessage message, long nowMs)
    {
        var interval = message.MessageExpiryInterval;
        if (interval == 0) return;
        var payload = message.Payload;
        if (payload.IsEmpty || payload.Start.GetObject() is not { } buffer) return;
        Stamps.AddOrUpdate(buffer, new Arrival(nowMs, interval, payload.Start.GetInteger(), payload.Length));
    }

    /// <summary>
    /// The outbound check for a PUBLISH with an interval: false when the message has expired (the
    /// packet must not be sent); otherwise the packet's interval is rewritten to the time left.
    /// </summary>
    public static bool Refresh(MqttPublishPacket packet, long nowMs)
    {
        if (Dropped.TryGetValue(packet, out _)) return false;
        var payload = packet.Payload;
        if (payload.IsEmpty || payload.Start.GetObject() is not { } buffer) return true;
        if (!Stamps.TryGetValue(buffer, out var stamp) || stamp.Index != payload.Start.GetInteger() || stamp.Length != payload.Length)
            return true; // not stamped (or the buffer now belongs to another message): sent as it is
        var leftMs = stamp.Interval * 1000L - (nowMs - stamp.ArrivedMs);
        if (leftMs <= 0)
        {
            Dropped.AddOrUpdate(packet, Mark);
            // Never acknowledged by the client: see the class remarks.
            if (packet.QualityOfServiceLevel > MqttQualityOfServiceLevel.AtMostOnce) packet.PacketIdentifier = 0;
            return false;
        }
        // Rounded up: 0 would mean "no expiry" on the wire, and the message has not expired yet.
        packet.MessageExpiryInterval = (uint)((leftMs + 999) / 1000);
        return true;
    }
}
