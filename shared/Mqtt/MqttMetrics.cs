using System.Diagnostics.Metrics;

namespace EdgeStream.Mqtt;

/// <summary>
/// The MQTT library's meter: PUBLISH messages in from clients and out to subscribers, and messages
/// dropped by the broker with the reason. Connections and queue overflows are counted by
/// <see cref="Limits.MqttConnectionGuard"/> and exported by the host as observable instruments.
/// </summary>
public static class MqttMetrics
{
    public const string MeterName = "EdgeStream.Mqtt";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> MessagesIn = Meter.CreateCounter<long>("edgestream.mqtt.messages.in", "{message}",
        "PUBLISH messages received from MQTT clients (wills included), per QoS.");
    private static readonly Counter<long> MessagesOut = Meter.CreateCounter<long>("edgestream.mqtt.messages.out", "{message}",
        "PUBLISH packets sent to MQTT subscribers.");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("edgestream.mqtt.messages.dropped", "{message}",
        "Messages the broker did not deliver or log, per reason (qos0_append_failed, expired, refused, too_large_for_client, retention).");

    private static readonly object[] QosLabels = ["0", "1", "2"];

    internal static void Received(int qos) =>
        MessagesIn.Add(1, new KeyValuePair<string, object?>("qos", (uint)qos < 3 ? QosLabels[qos] : "other"));

    internal static void Sent() => MessagesOut.Add(1);

    internal static void Drop(string reason, long count = 1) => Dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
}
