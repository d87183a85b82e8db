using System.Text;
using EdgeStream.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using MQTTnet;
using MQTTnet.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt;

/// <summary>
/// Kafka → MQTT: follows every partition of each mapped log topic (<c>--mqtt-map</c>) and publishes
/// each record to MQTT subscribers, MQTT topic = record key. Its position is kept in meta.db
/// (<c>mqtt_follower</c>), so a restart resumes where it stopped; the very first run starts at the end.
/// QoS comes from header <c>mqtt.qos</c> (default 1), retain from <c>mqtt.retain</c>. Records the
/// bridge itself wrote from MQTT (header <c>mqtt.origin=bridge</c>) were delivered by the broker
/// already and are skipped, so nothing loops.
/// </summary>
public sealed class MqttLogFollower : BackgroundService
{
    /// <summary>The sender id of injected messages; the publish interceptor does not log them again.</summary>
    public const string SenderClientId = "edgestream-log-follower";

    private const int MaxReadBytes = 1 << 20;
    private const long PositionSaveIntervalMs = 1000;

    /// <summary>meta.db collection of the next offset to publish, key "topic/partition".</summary>
    public const string PositionsCollection = "mqtt_follower";

    private readonly IMqttMessageInjector _injector;
    private readonly MqttLogBridge _bridge;
    private readonly Func<TopicCatalog?> _catalog;
    private readonly ILogger _logger;
    private readonly MetadataCollection _positions;

    public MqttLogFollower(IMqttMessageInjector injector, MqttLogBridge bridge, MetadataStore metadata, ILogger<MqttLogFollower> logger)
    {
        _positions = metadata.Collection(PositionsCollection);
        _injector = injector;
        _bridge = bridge;
        _catalog = bridge.Catalog;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var topics = _bridge.Options.Map.MappedLogTopics;
        if (topics.Count == 0) return;
        TopicCatalog? catalog;
        while ((catalog = _catalog()) is null)
            await Task.Delay(50, stoppingToken).ConfigureAwait(false);

        var loops = new List<Task>();
        foreach (var name in topics)
        {
            TopicLog? topic;
            try
            {
                topic = catalog.GetOrAutoCreate(name);
            }
            catch (EdgeStreamException ex)
            {
                MqttLog.FollowFailed(_logger, name, -1, ex.Message);
                continue;
            }
            if (topic is null)
            {
                MqttLog.FollowFailed(_logger, name, -1, "topic does not exist and topic auto-creation is off");
                continue;
            }
            for (var p = 0; p < topic.PartitionCount; p++)
                loops.Add(FollowAsync(topic[p], name, p, stoppingToken));
        }
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task FollowAsync(PartitionLog log, string topic, int partition, CancellationToken ct)
    {
        // Resume where the previous run stopped, so records produced while the node was down (or
        // before the MQTT side caught up) still reach subscribers; the first run starts at the end.
        var key = Persistence.StoredSession.CursorKey(topic, partition);
        var next = _positions.TryGet(key, out var stored) ? Math.Max(stored.Number, log.LogStartOffset) : log.HighWatermark;
        MqttLog.Following(_logger, topic, partition, next);
        var saved = stored.Number;
        var lastSave = Environment.TickCount64;
        while (!ct.IsCancellationRequested)
        {
            if (next != saved && Environment.TickCount64 - lastSave >= PositionSaveIntervalMs)
            {
                _positions.Put(key, next);
                saved = next;
                lastSave = Environment.TickCount64;
            }
            try
            {
                await log.WhenHighWatermarkAbove(next).WaitAsync(ct).ConfigureAwait(false);
                using var read = log.Read(next, MaxReadBytes);
                var memory = read.Memory;
                while (memory.Length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(memory.Span, out var header))
                {
                    var size = header.TotalSize;
                    if (size > memory.Length) break;
                    var batch = memory[..size];
                    memory = memory[size..];
                    var end = header.BaseOffset + header.LastOffsetDelta + 1;
                    if (!header.IsControl)
                    {
                        foreach (var record in RecordBatchReader.ReadRecords(batch))
                        {
                            if (record.Offset < next) continue;
                            await PublishAsync(record, topic, partition, ct).ConfigureAwait(false);
                        }
                    }
                    next = Math.Max(next, end);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                if (next != saved) _positions.Put(key, next);
                return;
            }
            catch (OffsetOutOfRangeException)
            {
                next = Math.Max(next, log.LogStartOffset); // deleted by retention meanwhile
            }
            catch (Exception ex)
            {
                MqttLog.FollowFailed(_logger, topic, partition, ex.Message);
                try { await Task.Delay(1000, ct).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task PublishAsync(Record record, string topic, int partition, CancellationToken ct)
    {
        var message = MqttRecordCodec.ToMessage(record, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), out var fromBridge);
        // Written from MQTT: subscribers had it from the broker already. Expired or keyless: nothing to send.
        if (message is null || fromBridge) return;
        // Persistent sessions count what they still owe in log positions (MqttSessionTracker).
        Persistence.MqttLogPositions.Set(message, new Persistence.LogPosition(topic, partition, record.Offset));
        await _injector.InjectAsync(message, SenderClientId, ct).ConfigureAwait(false);
    }
}
