using System.Text;
using EdgeStream.Metadata;
using EdgeStream.Mqtt.Persistence;
using EdgeStream.Records;
using EdgeStream.Storage;
using MQTTnet;

namespace EdgeStream.Mqtt;

/// <summary>
/// Appends MQTT application messages to the log: each one is one record (<see cref="MqttRecordCodec"/>)
/// of the log topic its MQTT topic maps to. The partition follows the key, the MQTT topic (Kafka's
/// murmur2, as a keyed Kafka producer would), so one MQTT topic keeps its order.
/// </summary>
public sealed class MqttLogBridge
{
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

    /// <summary>
    /// Appends <paramref name="message"/> to the log topic. The returned task completes once the
    /// record is durable under the fsync policy; it throws <see cref="MqttBridgeException"/> when the
    /// record was not kept.
    /// </summary>
    public ValueTask<LogPosition> AppendAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default)
    {
        var (partition, logTopic, batch) = Prepare(message);
        return Translate(partition.AppendAsync(batch, cancellationToken), logTopic, partition.Partition);
    }

    /// <summary>
    /// Writes <paramref name="message"/> to the log topic without waiting for it to become durable:
    /// the returned <see cref="MqttLogAppend"/> says when it is. Throws <see cref="MqttBridgeException"/>
    /// (synchronously) when the record was not written.
    /// </summary>
    public MqttLogAppend Append(MqttApplicationMessage message)
    {
        var (partition, logTopic, batch) = Prepare(message);
        try
        {
            var result = partition.Append(batch);
            return new MqttLogAppend(partition, new LogPosition(logTopic, partition.Partition, result.BaseOffset), result.LastOffset + 1);
        }
        catch (Exception ex) when (Refusal(ex) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>The partition <paramref name="message"/> goes to, its log topic and the record batch to append.</summary>
    private (PartitionLog Partition, string LogTopic, Memory<byte> Batch) Prepare(MqttApplicationMessage message)
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

        var batch = MqttRecordCodec.ToBatch(message, _time.GetUtcNow().ToUnixTimeMilliseconds());
        return (topic[PartitionFor(message.Topic, topic.PartitionCount)], logTopic, batch);
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

    private static async ValueTask<LogPosition> Translate(ValueTask<AppendResult> append, string topic, int partition)
    {
        try
        {
            var result = await append.ConfigureAwait(false);
            return new LogPosition(topic, partition, result.BaseOffset);
        }
        catch (Exception ex) when (Refusal(ex) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>The bridge refusal a storage failure comes to (the MQTT 5 reason code follows from it); null for anything else.</summary>
    internal static MqttBridgeException? Refusal(Exception ex) => ex switch
    {
        DiskFullException => new MqttBridgeException(BridgeRefusal.QuotaExceeded, ex.Message, ex),
        InvalidBatchException or MessageTooLargeException => new MqttBridgeException(BridgeRefusal.Invalid, ex.Message, ex),
        StorageException => new MqttBridgeException(BridgeRefusal.Unavailable, ex.Message, ex),
        _ => null,
    };
}
