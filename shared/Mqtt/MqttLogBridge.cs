using System.Buffers;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt;

/// <summary>Where MQTT messages go in the log.</summary>
public sealed class MqttBridgeOptions
{
    /// <summary>Which log topic each PUBLISH lands in (<c>--mqtt-map</c>); without rules, every PUBLISH goes to <c>mqtt</c>.</summary>
    public MqttTopicMap Map { get; init; } = new();

    /// <summary>The catch-all log topic (the implicit last rule <c>#=mqtt</c>).</summary>
    public string LogTopic => DefaultLogTopic;

    public const string DefaultLogTopic = "mqtt";
}

/// <summary>Why the bridge refused a message; maps onto MQTT 5 PUBACK/PUBREC reason codes.</summary>
public enum BridgeRefusal
{
    /// <summary>The disk budget (--max-disk) is full: 0x97 quota exceeded.</summary>
    QuotaExceeded,
    /// <summary>Storage is not open or the log topic cannot be created: 0x83 implementation specific error.</summary>
    Unavailable,
    /// <summary>The message does not fit a record batch (too large, invalid): 0x99 payload format invalid.</summary>
    Invalid,
}

/// <summary>An append that did not happen, with the reason a client can act on.</summary>
public sealed class MqttBridgeException : StorageException
{
    public MqttBridgeException(BridgeRefusal refusal, string message) : base(message) => Refusal = refusal;

    public MqttBridgeException(BridgeRefusal refusal, string message, Exception inner) : base(message, inner) => Refusal = refusal;

    public BridgeRefusal Refusal { get; }
}

/// <summary>
/// Turns one MQTT application message into one record of the log topic: key = the MQTT topic
/// (UTF-8), value = the payload, headers <c>mqtt.qos</c>, <c>mqtt.retain</c> and, for MQTT 5,
/// <c>mqtt.content-type</c> and every user property. The partition follows the key (Kafka's
/// murmur2, as a keyed Kafka producer would), so one MQTT topic keeps its order.
/// </summary>
public sealed class MqttLogBridge
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

    private readonly Func<TopicCatalog?> _catalog;
    private readonly MqttBridgeOptions _options;
    private readonly TimeProvider _time;

    public MqttLogBridge(Func<TopicCatalog?> catalog, MqttBridgeOptions options, TimeProvider? time = null)
    {
        _catalog = catalog;
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    public MqttBridgeOptions Options => _options;

    /// <summary>The topic catalog over the open log, or null while storage is closed.</summary>
    public Func<TopicCatalog?> Catalog => _catalog;

    /// <summary>Encodes <paramref name="message"/> as a one-record batch (base offset 0).</summary>
    public byte[] Encode(MqttApplicationMessage message)
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
            headers.Add(new(MessageExpiryHeader, Persistence.MqttRecordCodec.Decimal(message.MessageExpiryInterval)));
        if (message.UserProperties is { } properties)
        {
            foreach (var p in properties) headers.Add(new(p.Name, p.ValueBuffer)); // already UTF-8 on the wire
        }

        var key = Encoding.UTF8.GetBytes(message.Topic);
        var payload = message.Payload;
        ReadOnlyMemory<byte> value = payload.IsSingleSegment ? payload.First : payload.ToArray();
        // One builder per thread, reset per message: Encode is synchronous, and a fresh builder per
        // message cost an ArrayBufferWriter and its growth copies (1 KB payloads grew it twice).
        var builder = t_builder ??= new RecordBatchBuilder();
        builder.Reset();
        try
        {
            return builder.Add(key, value, _time.GetUtcNow().ToUnixTimeMilliseconds(), headers).Build();
        }
        finally
        {
            // A large message leaves a large buffer behind: not kept, so an idle thread holds little.
            if (builder.RecordsSize > MaxPooledBuilderBytes) t_builder = null;
            else builder.Reset();
        }
    }

    private const int MaxPooledBuilderBytes = 64 * 1024;

    [ThreadStatic]
    private static RecordBatchBuilder? t_builder;

    /// <summary>
    /// Appends <paramref name="message"/> to the log topic. The returned task completes once the
    /// record is durable under the fsync policy; it throws <see cref="MqttBridgeException"/> when the
    /// record was not kept.
    /// </summary>
    public ValueTask<Persistence.LogPosition> AppendAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default)
    {
        var catalog = _catalog() ?? throw new MqttBridgeException(BridgeRefusal.Unavailable, "storage is not open");
        var logTopic = _options.Map.Resolve(message.Topic);
        TopicLog? topic;
        try
        {
            topic = catalog.GetOrAutoCreate(logTopic);
        }
        catch (EdgeStreamException ex)
        {
            throw new MqttBridgeException(BridgeRefusal.Unavailable, $"log topic '{logTopic}': {ex.Message}", ex);
        }
        if (topic is null)
            throw new MqttBridgeException(BridgeRefusal.Unavailable, $"log topic '{logTopic}' does not exist and topic auto-creation is off");

        var batch = Encode(message);
        var partition = PartitionFor(message.Topic, topic.PartitionCount);
        return Translate(topic[partition].AppendAsync(batch, cancellationToken), logTopic, partition);
    }

    private static int PartitionFor(string mqttTopic, int partitionCount)
    {
        if (partitionCount <= 1) return 0;
        Span<byte> stack = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(mqttTopic.Length);
        var key = max <= stack.Length ? stack : new byte[max];
        var length = Encoding.UTF8.GetBytes(mqttTopic, key);
        return Partitioner.ForKey(key[..length], partitionCount);
    }

    private static async ValueTask<Persistence.LogPosition> Translate(ValueTask<AppendResult> append, string topic, int partition)
    {
        try
        {
            var result = await append.ConfigureAwait(false);
            return new Persistence.LogPosition(topic, partition, result.BaseOffset);
        }
        catch (DiskFullException ex)
        {
            throw new MqttBridgeException(BridgeRefusal.QuotaExceeded, ex.Message, ex);
        }
        catch (Exception ex) when (ex is InvalidBatchException or MessageTooLargeException)
        {
            throw new MqttBridgeException(BridgeRefusal.Invalid, ex.Message, ex);
        }
        catch (Exception ex) when (ex is StorageException and not MqttBridgeException)
        {
            throw new MqttBridgeException(BridgeRefusal.Unavailable, ex.Message, ex);
        }
    }
}
