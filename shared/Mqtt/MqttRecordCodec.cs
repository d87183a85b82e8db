using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using EdgeStream.Records;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt;

/// <summary>
/// The one mapping between an MQTT application message and a log record, both directions. A message
/// is one record: key = the MQTT topic (UTF-8), value = the payload, headers <c>mqtt.qos</c>,
/// <c>mqtt.retain</c>, <c>mqtt.origin</c> and, for MQTT 5, content type, response topic, correlation
/// data, payload format, message expiry and every user property. Back from a record, the
/// <c>mqtt.*</c> headers become QoS, retain and MQTT 5 properties again and every other header a
/// user property. Used by the bridge (appends), retained-message storage, the Kafka → MQTT
/// follower and the replay of persistent sessions after a restart. No I/O.
/// </summary>
public static class MqttRecordCodec
{
    public const string QosHeader = "mqtt.qos";
    public const string RetainHeader = "mqtt.retain";
    public const string ContentTypeHeader = "mqtt.content-type";
    public const string ResponseTopicHeader = "mqtt.response-topic";
    public const string CorrelationDataHeader = "mqtt.correlation-data";
    public const string PayloadFormatHeader = "mqtt.payload-format";
    /// <summary>MQTT 5 message expiry interval in seconds (decimal); the record timestamp is when it started.</summary>
    public const string MessageExpiryHeader = "mqtt.message-expiry";
    /// <summary>Marks records the bridge wrote from MQTT, so they are never published back to MQTT.</summary>
    public const string OriginHeader = "mqtt.origin";
    public const string OriginBridge = "bridge";

    private static readonly ReadOnlyMemory<byte>[] QosValues = ["0"u8.ToArray(), "1"u8.ToArray(), "2"u8.ToArray()];
    private static readonly ReadOnlyMemory<byte> True = "true"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> False = "false"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Bridge = "bridge"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Utf8 = "utf8"u8.ToArray();

    private const int MaxPooledBuilderBytes = 64 * 1024;

    [ThreadStatic]
    private static RecordBatchBuilder? t_builder;

    /// <summary>Encodes <paramref name="message"/> as a one-record batch (base offset 0) stamped <paramref name="timestampMs"/>.</summary>
    public static byte[] ToBatch(MqttApplicationMessage message, long timestampMs)
    {
        var headers = new List<RecordHeader>(3 + (message.UserProperties?.Count ?? 0) + 1)
        {
            new(QosHeader, QosValues[(int)message.QualityOfServiceLevel]),
            new(RetainHeader, message.Retain ? True : False),
            new(OriginHeader, Bridge),
        };
        if (!string.IsNullOrEmpty(message.ContentType))
            headers.Add(new(ContentTypeHeader, Encoding.UTF8.GetBytes(message.ContentType)));
        // MQTT 5 request/response and expiry travel with the record, so a message replayed from the
        // log (persistent session after a restart, retained message) is the message that was sent.
        if (!string.IsNullOrEmpty(message.ResponseTopic))
            headers.Add(new(ResponseTopicHeader, Encoding.UTF8.GetBytes(message.ResponseTopic)));
        if (message.CorrelationData is { Length: > 0 } correlation)
            headers.Add(new(CorrelationDataHeader, correlation));
        if (message.PayloadFormatIndicator == MqttPayloadFormatIndicator.CharacterData)
            headers.Add(new(PayloadFormatHeader, Utf8));
        if (message.MessageExpiryInterval > 0)
            headers.Add(new(MessageExpiryHeader, Decimal(message.MessageExpiryInterval)));
        if (message.UserProperties is { } properties)
        {
            foreach (var p in properties) headers.Add(new(p.Name, p.ValueBuffer)); // already UTF-8 on the wire
        }

        var key = Encoding.UTF8.GetBytes(message.Topic);
        var payload = message.Payload;
        ReadOnlyMemory<byte> value = payload.IsSingleSegment ? payload.First : payload.ToArray();
        // One builder per thread, reset per message: encoding is synchronous, and a fresh builder per
        // message cost an ArrayBufferWriter and its growth copies (1 KB payloads grew it twice).
        var builder = t_builder ??= new RecordBatchBuilder();
        builder.Reset();
        try
        {
            return builder.Add(key, value, timestampMs, headers).Build();
        }
        finally
        {
            // A large message leaves a large buffer behind: not kept, so an idle thread holds little.
            if (builder.RecordsSize > MaxPooledBuilderBytes) t_builder = null;
            else builder.Reset();
        }
    }

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
            Payload = new ReadOnlySequence<byte>(record.Value?.ToArray() ?? []),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        };
        List<MqttUserProperty>? userProperties = null;
        foreach (var h in record.Headers)
        {
            var value = h.Value ?? ReadOnlyMemory<byte>.Empty;
            switch (h.Key)
            {
                case OriginHeader:
                    fromBridge = value.Span.SequenceEqual(Bridge.Span);
                    break;
                case QosHeader when value.Length == 1 && value.Span[0] is >= (byte)'0' and <= (byte)'2':
                    message.QualityOfServiceLevel = (MqttQualityOfServiceLevel)(value.Span[0] - '0');
                    break;
                case RetainHeader:
                    message.Retain = value.Span.SequenceEqual(True.Span);
                    break;
                case ContentTypeHeader:
                    message.ContentType = Encoding.UTF8.GetString(value.Span);
                    break;
                case ResponseTopicHeader:
                    message.ResponseTopic = Encoding.UTF8.GetString(value.Span);
                    break;
                case CorrelationDataHeader:
                    message.CorrelationData = value.ToArray();
                    break;
                case PayloadFormatHeader:
                    message.PayloadFormatIndicator = value.Span.SequenceEqual(Utf8.Span)
                        ? MqttPayloadFormatIndicator.CharacterData : MqttPayloadFormatIndicator.Unspecified;
                    break;
                case MessageExpiryHeader:
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
    private static byte[] Decimal(uint value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}
