using EdgeStream.Mqtt.Persistence;
using EdgeStream.Storage;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// The catch-up reader of a session that fell behind (issue 16, "the log is the queue"): when its
/// queue drained to half, the next chunk of what it is owed (at most the queue's free room) is read
/// from the log from its positions (<see cref="MqttSessionBacklog"/>), on the thread pool, off the
/// routing lock while reading; queued under it. Reading goes on until the queue is full again or every
/// partition was read up to its high watermark, taken under the routing lock, where the session
/// switches back to live queuing: no message is routed between that look and the switch.
/// </summary>
public sealed partial class MqttCoreBroker
{
    /// <summary>A subscription as the reader matches it (copied under the routing lock).</summary>
    private readonly record struct ReadFilter(string Filter, MqttQualityOfServiceLevel Qos, uint SubscriptionId);

    private void StartCatchUp(MqttCoreSession session) => _ = Task.Run(() => CatchUpAsync(session));

    private async Task CatchUpAsync(MqttCoreSession session)
    {
        try
        {
            while (true)
            {
                // Deliveries routed while their append ran are placed (or found below the ranges) first.
                var pending = session.PendingAppends();
                if (pending.Count > 0) await Task.WhenAll(pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (session.PlanRead(out var room, out var generation) is not { } plan) return;
                if (ReadChunk(session, plan, room, generation)) return;
            }
        }
        // Retention racing the read, a closed log at stop: the next drain of the queue tries again.
        catch (Exception ex) when (ex is EdgeStreamException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            MqttCoreLog.CatchUpFailed(_logger, session.ClientId, ex.Message);
            session.CompleteRead(long.MinValue, [], [], progressed: false, room: 0, static (_, _) => 0, out _);
        }
    }

    /// <summary>Reads and queues one chunk; true when this catch-up ends.</summary>
    private bool ReadChunk(MqttCoreSession session, List<((string Topic, int Partition) Key, long Next)> plan, int room, long generation)
    {
        var catalog = _bridge.Catalog();
        var mapped = new HashSet<string>(_bridge.Options.Map.MappedLogTopics, StringComparer.Ordinal);
        var filters = new List<ReadFilter>();
        lock (_routing)
            foreach (var s in session.Subscriptions.Values)
                if (s.Group is null) filters.Add(new ReadFilter(s.Filter, s.Qos, s.SubscriptionId));
        var read = new List<MqttCoreDelivery>();
        var advanced = new List<((string, int), long)>(plan.Count);
        var progressed = false;
        long lost = 0;
        foreach (var (key, next) in plan)
        {
            if (read.Count >= room) break;
            if (catalog is null || !catalog.TryGet(key.Topic, out var topic) || topic is null || key.Partition >= topic.PartitionCount) continue;
            var log = topic[key.Partition];
            var from = next;
            // Retention deleted what the session was owed: counted, and reading goes on from what is left.
            if (from < log.LogStartOffset)
            {
                lost += log.LogStartOffset - from;
                from = log.LogStartOffset;
            }
            var isMapped = mapped.Contains(key.Topic);
            var now = Environment.TickCount64;
            var to = MqttLogRangeReader.Read(log, from, log.HighWatermark, isMapped, (offset, message, _) =>
            {
                if (Match(filters, message, out var qos, out var ids))
                {
                    MqttLogPositions.Set(message, new LogPosition(key.Topic, key.Partition, offset));
                    read.Add(new MqttCoreDelivery(message, qos, false, ids, null, ExpiresAt(message, now)) { LogBacked = true });
                }
                return read.Count < room;
            });
            progressed |= to > next;
            advanced.Add((key, to));
        }
        if (lost > 0)
        {
            MqttMetrics.Drop("retention", lost);
            if (session.FirstRetentionLoss()) MqttCoreLog.OwedMessagesDeleted(_logger, session.ClientId, lost);
        }
        bool done, switchedBack;
        lock (_routing)
            done = session.CompleteRead(generation, read, advanced, progressed, room, HighWatermark, out switchedBack);
        if (switchedBack) MqttCoreLog.CaughtUp(_logger, session.ClientId);
        return done;

        long HighWatermark(string topic, int partition) =>
            catalog is not null && catalog.TryGet(topic, out var t) && t is not null && partition < t.PartitionCount ? t[partition].HighWatermark : 0;
    }

    /// <summary>As routing would deliver it now: the highest QoS granted by a matching subscription (capped by the published one), every identifier.</summary>
    private static bool Match(List<ReadFilter> filters, MqttApplicationMessage message, out MqttQualityOfServiceLevel qos, out List<uint>? ids)
    {
        var granted = -1;
        ids = null;
        foreach (var f in filters)
        {
            if (!MqttTopicFilter.Matches(f.Filter, message.Topic)) continue;
            granted = Math.Max(granted, (int)f.Qos);
            if (f.SubscriptionId != 0) (ids ??= []).Add(f.SubscriptionId);
        }
        qos = granted < 0 ? MqttQualityOfServiceLevel.AtMostOnce : (MqttQualityOfServiceLevel)Math.Min(granted, (int)message.QualityOfServiceLevel);
        // QoS 0 was never owed (and was not left to the log).
        return qos != MqttQualityOfServiceLevel.AtMostOnce;
    }
}
