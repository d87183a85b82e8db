using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using EdgeStream.Records;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>Where a message is in the log: what a persistent session's replay cursor counts in.</summary>
public readonly record struct LogPosition(string Topic, int Partition, long Offset);

/// <summary>
/// Where an appended message landed, known once the append is durable (the PUBACK waits for the same
/// moment, so a position unknown yet belongs to a message nobody was promised).
/// </summary>
public sealed class LogPositionSlot
{
    private readonly LogPosition _position;
    private readonly Task<LogPosition>? _append;

    internal LogPositionSlot(LogPosition position) => _position = position;

    internal LogPositionSlot(Task<LogPosition> append) => _append = append;

    public bool TryGet(out LogPosition position)
    {
        if (_append is null)
        {
            position = _position;
            return true;
        }
        // Read off the append itself when asked (rarely: persistent sessions only), rather than a
        // continuation per message to fill the slot in.
        var done = _append.IsCompletedSuccessfully;
        position = done ? _append.Result : default;
        return done;
    }
}

/// <summary>
/// The log position of an application message the bridge appended (or the follower read), kept
/// beside the message object without touching it (no extra user property leaks to subscribers).
/// </summary>
public static class MqttLogPositions
{
    private static readonly ConditionalWeakTable<MqttApplicationMessage, LogPositionSlot> Slots = new();

    /// <summary>The message is durable at <paramref name="position"/>.</summary>
    public static void Set(MqttApplicationMessage message, LogPosition position) => Slots.AddOrUpdate(message, new LogPositionSlot(position));

    /// <summary>The message's append is in flight; its slot is filled when <paramref name="append"/> succeeds.</summary>
    public static void Track(MqttApplicationMessage message, Task<LogPosition> append) => Slots.AddOrUpdate(message, new LogPositionSlot(append));

    public static bool TryGetSlot(MqttApplicationMessage message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LogPositionSlot? slot) =>
        Slots.TryGetValue(message, out slot);

    public static bool TryGet(MqttApplicationMessage message, out LogPosition position)
    {
        if (Slots.TryGetValue(message, out var slot)) return slot.TryGet(out position);
        position = default;
        return false;
    }
}

/// <summary>
/// A log record back into an MQTT application message: key = MQTT topic, value = payload, the
/// <c>mqtt.*</c> headers the bridge wrote become QoS, retain and MQTT 5 properties, every other
/// header a user property. Used by the Kafka → MQTT follower, retained-message storage and the
/// replay of persistent sessions after a restart.
/// </summary>
public static class MqttRecordCodec
{
    /// <summary>Converts <paramref name="record"/>; null when it has no usable MQTT topic or its message expired.</summary>
    public static MqttApplicationMessage? ToMessage(in Record record, long nowMs, out bool fromBridge)
    {
        fromBridge = false;
        if (record.Key is not { Length: > 0 } key) return null;
        var topic = Encoding.UTF8.GetString(key.Span);
        if (topic.Contains('+') || topic.Contains('#') || topic.Contains('\0')) return null; // not a topic name

        var message = new MqttApplicationMessage
        {
            Topic = topic,
            Payload = new System.Buffers.ReadOnlySequence<byte>(record.Value?.ToArray() ?? []),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        };
        List<MqttUserProperty>? userProperties = null;
        foreach (var h in record.Headers)
        {
            var value = h.Value ?? ReadOnlyMemory<byte>.Empty;
            switch (h.Key)
            {
                case MqttLogBridge.OriginHeader:
                    fromBridge = value.Span.SequenceEqual("bridge"u8);
                    break;
                case MqttLogBridge.QosHeader when value.Length == 1 && value.Span[0] is >= (byte)'0' and <= (byte)'2':
                    message.QualityOfServiceLevel = (MqttQualityOfServiceLevel)(value.Span[0] - '0');
                    break;
                case MqttLogBridge.RetainHeader:
                    message.Retain = value.Span.SequenceEqual("true"u8);
                    break;
                case MqttLogBridge.ContentTypeHeader:
                    message.ContentType = Encoding.UTF8.GetString(value.Span);
                    break;
                case MqttLogBridge.ResponseTopicHeader:
                    message.ResponseTopic = Encoding.UTF8.GetString(value.Span);
                    break;
                case MqttLogBridge.CorrelationDataHeader:
                    message.CorrelationData = value.ToArray();
                    break;
                case MqttLogBridge.PayloadFormatHeader:
                    message.PayloadFormatIndicator = value.Span.SequenceEqual("utf8"u8)
                        ? MqttPayloadFormatIndicator.CharacterData : MqttPayloadFormatIndicator.Unspecified;
                    break;
                case MqttLogBridge.MessageExpiryHeader:
                    if (Utf8Parser.TryParse(value.Span, out uint expiry, out _) && expiry > 0)
                    {
                        // §3.3.2.3.3: what is forwarded is the interval minus the time the message has waited.
                        var waited = Math.Max(0, (nowMs - record.Timestamp) / 1000);
                        if (waited >= expiry) return null;
                        message.MessageExpiryInterval = (uint)(expiry - waited);
                    }
                    break;
                default:
                    if (h.Key.StartsWith("es.", StringComparison.Ordinal)) break; // EdgeStream's own (uplink origin)
                    (userProperties ??= []).Add(new MqttUserProperty(h.Key, new ReadOnlyMemory<byte>(value.ToArray())));
                    break;
            }
        }
        message.UserProperties = userProperties;
        // The remaining interval counts from now: the outbound hook takes off the time it waits from here.
        if (message.MessageExpiryInterval > 0) MqttMessageExpiry.Stamp(message);
        return message;
    }

    /// <summary>Decimal text of an unsigned number, for headers.</summary>
    internal static byte[] Decimal(uint value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}
