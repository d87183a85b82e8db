using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// One message on its way to one session: the shared application message plus what is this
/// session's own (granted QoS, retain flag as sent, subscription identifiers, packet id once in flight).
/// </summary>
public sealed class MqttCoreDelivery
{
    public MqttCoreDelivery(MqttApplicationMessage message, MqttQualityOfServiceLevel qos, bool retain, List<uint>? subscriptionIds,
        MqttSharedGroup? group, long expiresAtMs)
    {
        Message = message;
        Qos = qos;
        Retain = retain;
        SubscriptionIds = subscriptionIds;
        Group = group;
        ExpiresAtMs = expiresAtMs;
    }

    public MqttApplicationMessage Message { get; }

    public MqttQualityOfServiceLevel Qos { get; }

    public bool Retain { get; }

    public List<uint>? SubscriptionIds { get; }

    /// <summary>The shared subscription it was chosen for; a departing member hands it on.</summary>
    public MqttSharedGroup? Group { get; }

    /// <summary><see cref="Environment.TickCount64"/> at which it expires (MQTT 5 §3.3.2.3.3), 0 for never.</summary>
    public long ExpiresAtMs { get; }

    /// <summary>
    /// A QoS 1/2 message routed from the log (published, injected by the follower, replayed or read back)
    /// for a non-shared subscription: when the queue is full it is read back from the log later rather
    /// than dropped. Retained messages sent at SUBSCRIBE and shared deliveries are not.
    /// </summary>
    internal bool LogBacked { get; init; }

    /// <summary>
    /// Queued right after the session switched back from reading the log while its append was still
    /// running: if its position turns out to be in the ranges read, the reader queued it already.
    /// </summary>
    internal MqttSessionBacklog.Seam? SeamCheck;

    /// <summary>The writer waits for its append (see <see cref="SeamCheck"/>) and is woken when it ends.</summary>
    internal bool WakeOnAppend;

    /// <summary>The packet identifier while in flight (QoS 1/2), else 0.</summary>
    public ushort PacketId { get; internal set; }

    /// <summary>Order of first sending, so a resumed session resends in the same order.</summary>
    internal long Sequence;

    /// <summary>Sent before and not acknowledged: the next send carries DUP (§3.3.1.1).</summary>
    internal bool Dup;

    /// <summary>Due to be sent again on the session's new connection.</summary>
    internal bool Resend;

    /// <summary>QoS 2: PUBREC received, PUBREL sent; waiting for PUBCOMP.</summary>
    internal bool Released;

    /// <summary>The copy for another session (a shared member taking it over): not in flight anywhere yet.</summary>
    public MqttCoreDelivery Reassigned() => new(Message, Qos, Retain, SubscriptionIds, Group, ExpiresAtMs);
}
