using System.Text;
using EdgeStream.Kafka.Protocol.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt;

/// <summary>
/// Kafka → MQTT: follows every partition of each mapped log topic (<c>--mqtt-map</c>) from its high
/// watermark at start-up and publishes each record to MQTT subscribers, MQTT topic = record key.
/// QoS comes from header <c>mqtt.qos</c> (default 1), retain from <c>mqtt.retain</c>. Records the
/// bridge itself wrote from MQTT (header <c>mqtt.origin=bridge</c>) were delivered by the broker
/// already and are skipped, so nothing loops.
/// </summary>
public sealed class MqttLogFollower : BackgroundService
{
    /// <summary>The sender id of injected messages; the publish interceptor does not log them again.</summary>
    public const string SenderClientId = "edgestream-log-follower";

    private const int MaxReadBytes = 1 << 20;

    private readonly MqttServer _server;
    private readonly MqttLogBridge _bridge;
    private readonly Func<TopicCatalog?> _catalog;
    private readonly ILogger _logger;

    public MqttLogFollower(MqttServer server, MqttLogBridge bridge, ILogger<MqttLogFollower> logger)
    {
        _server = server;
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
        var next = log.HighWatermark;
        MqttLog.Following(_logger, topic, partition, next);
        while (!ct.IsCancellationRequested)
        {
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
                            await PublishAsync(record, ct).ConfigureAwait(false);
                        }
                    }
                    next = Math.Max(next, end);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
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

    private async Task PublishAsync(Record record, CancellationToken ct)
    {
        if (record.Key is not { Length: > 0 } key) return;
        var qos = MqttQualityOfServiceLevel.AtLeastOnce;
        var retain = false;
        foreach (var h in record.Headers)
        {
            var value = h.Value is { } v ? Encoding.UTF8.GetString(v.Span) : null;
            switch (h.Key)
            {
                case MqttLogBridge.OriginHeader when value == MqttLogBridge.OriginBridge:
                    return; // written from MQTT: subscribers already have it
                case MqttLogBridge.QosHeader when value is "0" or "1" or "2":
                    qos = (MqttQualityOfServiceLevel)(value[0] - '0');
                    break;
                case MqttLogBridge.RetainHeader:
                    retain = value == "true";
                    break;
            }
        }
        var topic = Encoding.UTF8.GetString(key.Span);
        if (topic.Contains('+') || topic.Contains('#') || topic.Contains('\0')) return; // not a topic name
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(record.Value?.ToArray() ?? [])
            .WithQualityOfServiceLevel(qos)
            .WithRetainFlag(retain)
            .Build();
        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = SenderClientId }, ct)
            .ConfigureAwait(false);
    }
}
