using System.Collections.Concurrent;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TopicFilterText = EdgeStream.Mqtt.MqttTopicFilter;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>
/// Makes persistent MQTT sessions (3.1.1 CleanSession=0, MQTT 5 Session Expiry Interval &gt; 0)
/// survive an agent restart, including a kill -9.
/// <para>
/// MQTTnet keeps sessions in memory only. Every message a session can receive is in the log
/// already (the bridge appends before acknowledging), so what must be durable is small: the
/// session's subscriptions, written when they change (before the SUBACK), and per log partition a
/// replay cursor: the first offset that may hold a message the client has not acknowledged yet.
/// The cursor is the oldest unacknowledged message queued for the session or, with none, the high
/// watermark seen one checkpoint earlier (a message is queued right after its append; the lag
/// covers that step). After a restart, the first CONNECT of the client re-creates the session:
/// subscriptions are restored and the log is replayed from the cursors through the subscriptions.
/// So nothing acknowledged to a publisher is lost to a persistent subscriber; a crash may deliver
/// a message a second time (QoS 1 semantics), a clean shutdown does not.
/// </para>
/// </summary>
public sealed class MqttSessionTracker : BackgroundService
{
    private const string PersistentItem = "edgestream.session.persistent";
    private const string CleanStartItem = "edgestream.session.clean";
    private const string ExpiryItem = "edgestream.session.expiry";
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private readonly MqttServer _server;
    private readonly MqttLogBridge _bridge;
    private readonly MqttSessionStore _store;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Tracked> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConnectFlags> _connecting = new(StringComparer.Ordinal);
    private Dictionary<string, long>? _floor;
    private long _droppedFromQueues;

    private sealed class Tracked(StoredSession stored)
    {
        public readonly StoredSession Stored = stored;
        /// <summary>MQTTnet holds this session (connected or restored since start-up): its queue is real.</summary>
        public bool Live;
        /// <summary>While restoring, the subscribe events are our own and change nothing stored.</summary>
        public bool Restoring;
        public bool Dirty;
        public readonly List<PendingMessage> Pending = [];
    }

    /// <summary>
    /// A message queued for the session and not acknowledged yet, recognised again by topic and
    /// payload buffer. Its position may still be unknown (append not durable yet): then its offset is
    /// at or above the high watermark, so it cannot lower a cursor and is skipped at checkpoints.
    /// </summary>
    private readonly record struct PendingMessage(LogPositionSlot Slot, string Topic, object? PayloadObject, int PayloadIndex, long PayloadLength)
    {
        public static PendingMessage Of(LogPositionSlot slot, string topic, System.Buffers.ReadOnlySequence<byte> payload) =>
            new(slot, topic, payload.Start.GetObject(), payload.Start.GetInteger(), payload.Length);

        public bool IsAt(LogPosition position) => Slot.TryGet(out var p) && p == position;

        public bool Is(string topic, System.Buffers.ReadOnlySequence<byte> payload) =>
            Topic == topic && PayloadLength == payload.Length &&
            ReferenceEquals(PayloadObject, payload.Start.GetObject()) && PayloadIndex == payload.Start.GetInteger();
    }

    public MqttSessionTracker(MqttServer server, MqttLogBridge bridge, MqttSessionStore store, ILogger<MqttSessionTracker> logger)
    {
        _server = server;
        _bridge = bridge;
        _store = store;
        _logger = logger;
    }

    /// <summary>Messages dropped from full per-client queues (--mqtt-max-queued) since start-up.</summary>
    public long DroppedFromQueues => Interlocked.Read(ref _droppedFromQueues);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var stored in _store.LoadAll())
        {
            if (stored.IsExpired(now))
            {
                _store.Delete(stored.ClientId);
                continue;
            }
            // A session that was connected when the node stopped was disconnected then.
            if (stored.DisconnectedAtMs == 0) stored.DisconnectedAtMs = now;
            _sessions[stored.ClientId] = new Tracked(stored);
        }
        if (!_sessions.IsEmpty) MqttPersistenceLog.SessionsLoaded(_logger, _sessions.Count);

        _server.ValidatingConnectionAsync += OnValidatingConnection;
        _server.InterceptingOutboundPacketAsync += OnOutboundPacket;
        _server.ClientConnectedAsync += OnClientConnected;
        _server.ClientDisconnectedAsync += OnClientDisconnected;
        _server.ClientSubscribedTopicAsync += OnSubscribed;
        _server.ClientUnsubscribedTopicAsync += OnUnsubscribed;
        _server.SessionDeletedAsync += OnSessionDeleted;
        _server.InterceptingClientEnqueueAsync += OnEnqueue;
        _server.ClientAcknowledgedPublishPacketAsync += OnAcknowledged;
        _server.QueuedApplicationMessageOverwrittenAsync += OnOverwritten;
        _server.ApplicationMessageEnqueuedOrDroppedAsync += OnEnqueuedOrDropped;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Registered before MQTTnet's server, so stopped after it: nothing is being dispatched any
        // more and the current high watermarks are a safe floor.
        try
        {
            Checkpoint(Snapshot());
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or InvalidOperationException)
        {
            MqttPersistenceLog.CheckpointFailed(_logger, ex.Message);
        }
        _server.ValidatingConnectionAsync -= OnValidatingConnection;
        _server.InterceptingOutboundPacketAsync -= OnOutboundPacket;
        _server.ClientConnectedAsync -= OnClientConnected;
        _server.ClientDisconnectedAsync -= OnClientDisconnected;
        _server.ClientSubscribedTopicAsync -= OnSubscribed;
        _server.ClientUnsubscribedTopicAsync -= OnUnsubscribed;
        _server.SessionDeletedAsync -= OnSessionDeleted;
        _server.InterceptingClientEnqueueAsync -= OnEnqueue;
        _server.ClientAcknowledgedPublishPacketAsync -= OnAcknowledged;
        _server.QueuedApplicationMessageOverwrittenAsync -= OnOverwritten;
        _server.ApplicationMessageEnqueuedOrDroppedAsync -= OnEnqueuedOrDropped;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var current = Snapshot();
                    // The previous snapshot is the floor: every message below it has been queued by now.
                    if (_floor is { } floor) Checkpoint(floor);
                    _floor = current;
                    await ExpireAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is EdgeStreamException or InvalidOperationException)
                {
                    MqttPersistenceLog.CheckpointFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // ---- connection life cycle -------------------------------------------------------------

    /// <summary>What a client's latest CONNECT asked for.</summary>
    private readonly record struct ConnectFlags(bool Persistent, bool CleanStart, uint Expiry);

    private Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        // MQTT 3.1.1 §3.1.2.4: the session outlives the connection unless CleanSession is set.
        // MQTT 5 §3.1.2.11: it does when the Session Expiry Interval is above zero.
        var v5 = e.ProtocolVersion == MqttProtocolVersion.V500;
        var flags = new ConnectFlags(
            v5 ? e.SessionExpiryInterval > 0 : e.CleanSession == false,
            e.CleanSession != false,
            v5 && e.SessionExpiryInterval != uint.MaxValue ? e.SessionExpiryInterval : uint.MaxValue);
        // Not (only) in the session items: when MQTTnet resumes a session it keeps the items of the
        // CONNECT that created it and drops this one's, so they would describe an older CONNECT.
        var id = string.IsNullOrEmpty(e.ClientId) ? e.AssignedClientIdentifier : e.ClientId;
        // Refused by an earlier handler (limits): no ClientConnected will take the entry back.
        if (!string.IsNullOrEmpty(id) && e.ReasonCode == MqttConnectReasonCode.Success) _connecting[id] = flags;
        e.SessionItems[PersistentItem] = flags.Persistent;
        e.SessionItems[CleanStartItem] = flags.CleanStart;
        e.SessionItems[ExpiryItem] = flags.Expiry;
        return Task.CompletedTask;
    }

    private ConnectFlags FlagsOf(string clientId, System.Collections.IDictionary items, bool take) =>
        (take ? _connecting.TryRemove(clientId, out var flags) : _connecting.TryGetValue(clientId, out flags))
            ? flags
            : new ConnectFlags(items[PersistentItem] is true, items[CleanStartItem] is not false, items[ExpiryItem] is uint x ? x : uint.MaxValue);

    private Task OnOutboundPacket(InterceptingPacketEventArgs e)
    {
        // A QoS 1/2 PUBLISH not sent (expired, see MqttMessageExpiry) is never acknowledged: it must not
        // hold the session's replay cursor back. Registered after MqttBrokerService, so this sees its verdict.
        if (!e.ProcessPacket && e.Packet is MqttPublishPacket { QualityOfServiceLevel: > MqttQualityOfServiceLevel.AtMostOnce } dropped)
        {
            if (_sessions.TryGetValue(e.ClientId, out var owner)) Forget(owner, dropped.Topic, dropped.Payload);
            return Task.CompletedTask;
        }
        // A session restored from meta.db is "present" (§3.2.2.1.1) although MQTTnet created it afresh.
        if (e.Packet is MqttConnAckPacket ack && !ack.IsSessionPresent && _sessions.TryGetValue(e.ClientId, out var tracked) && !tracked.Live &&
            FlagsOf(e.ClientId, e.SessionItems, take: false) is { Persistent: true, CleanStart: false })
        {
            ack.IsSessionPresent = true;
        }
        return Task.CompletedTask;
    }

    private async Task OnClientConnected(ClientConnectedEventArgs e)
    {
        var id = e.ClientId;
        var flags = FlagsOf(id, e.SessionItems, take: true);
        if (!flags.Persistent)
        {
            // A clean session replaces whatever was stored under this id (§3.1.2.4).
            if (_sessions.TryRemove(id, out _)) _store.Delete(id);
            return;
        }

        var tracked = _sessions.GetOrAdd(id, static key => new Tracked(new StoredSession { ClientId = key }));
        var restore = false;
        lock (tracked)
        {
            tracked.Stored.ExpirySeconds = flags.Expiry;
            tracked.Stored.DisconnectedAtMs = 0;
            if (flags.CleanStart)
            {
                tracked.Stored.Subscriptions.Clear();
                tracked.Pending.Clear();
                ResetCursors(tracked.Stored);
                tracked.Live = true;
            }
            else if (!tracked.Live)
            {
                if (tracked.Stored.Subscriptions.Count > 0) restore = tracked.Restoring = true;
                else ResetCursors(tracked.Stored);
            }
        }

        if (restore)
        {
            try
            {
                await RestoreAsync(tracked).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MqttPersistenceLog.RestoreFailed(_logger, id, ex.Message);
            }
            finally
            {
                lock (tracked) tracked.Restoring = false;
            }
        }
        lock (tracked) tracked.Live = true;
        _store.Save(tracked.Stored);
    }

    private Task OnClientDisconnected(ClientDisconnectedEventArgs e)
    {
        if (e.DisconnectType != MqttClientDisconnectType.Takeover && _sessions.TryGetValue(e.ClientId, out var tracked))
        {
            lock (tracked)
            {
                tracked.Stored.DisconnectedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                tracked.Dirty = true;
            }
        }
        return Task.CompletedTask;
    }

    private Task OnSessionDeleted(SessionDeletedEventArgs e)
    {
        if (_sessions.TryRemove(e.Id, out _)) _store.Delete(e.Id);
        return Task.CompletedTask;
    }

    private Task OnSubscribed(ClientSubscribedTopicEventArgs e)
    {
        if (!_sessions.TryGetValue(e.ClientId, out var tracked)) return Task.CompletedTask;
        lock (tracked)
        {
            if (tracked.Restoring) return Task.CompletedTask;
            var f = e.TopicFilter;
            var subscriptions = tracked.Stored.Subscriptions;
            subscriptions.RemoveAll(s => s.Filter == f.Topic);
            subscriptions.Add(new StoredSubscription(f.Topic, f.QualityOfServiceLevel, f.NoLocal, f.RetainAsPublished, f.RetainHandling));
        }
        // Stored before the SUBACK goes out: MQTTnet awaits this event while handling SUBSCRIBE.
        _store.Save(tracked.Stored);
        return Task.CompletedTask;
    }

    private Task OnUnsubscribed(ClientUnsubscribedTopicEventArgs e)
    {
        if (!_sessions.TryGetValue(e.ClientId, out var tracked)) return Task.CompletedTask;
        lock (tracked)
        {
            if (tracked.Restoring) return Task.CompletedTask;
            tracked.Stored.Subscriptions.RemoveAll(s => s.Filter == e.TopicFilter);
        }
        _store.Save(tracked.Stored);
        return Task.CompletedTask;
    }

    // ---- delivery bookkeeping --------------------------------------------------------------

    private Task OnEnqueue(InterceptingClientApplicationMessageEnqueueEventArgs e)
    {
        if (!_sessions.TryGetValue(e.ReceiverClientId, out var tracked)) return Task.CompletedTask;
        var message = e.ApplicationMessage;
        if (!MqttLogPositions.TryGetSlot(message, out var slot)) return Task.CompletedTask;
        lock (tracked)
        {
            // QoS 0 deliveries are never acknowledged, so they are not tracked (and not replayed).
            if (EffectiveQos(tracked.Stored, message.Topic, message.QualityOfServiceLevel) == MqttQualityOfServiceLevel.AtMostOnce)
                return Task.CompletedTask;
            tracked.Pending.Add(PendingMessage.Of(slot, message.Topic, message.Payload));
        }
        return Task.CompletedTask;
    }

    private Task OnAcknowledged(ClientAcknowledgedPublishPacketEventArgs e)
    {
        if (e.IsCompleted && _sessions.TryGetValue(e.ClientId, out var tracked))
            Forget(tracked, e.PublishPacket.Topic, e.PublishPacket.Payload);
        return Task.CompletedTask;
    }

    private Task OnOverwritten(QueueMessageOverwrittenEventArgs e)
    {
        Interlocked.Increment(ref _droppedFromQueues);
        if (e.Packet is MqttPublishPacket publish && _sessions.TryGetValue(e.ReceiverClientId, out var tracked))
            Forget(tracked, publish.Topic, publish.Payload);
        return Task.CompletedTask;
    }

    private Task OnEnqueuedOrDropped(ApplicationMessageEnqueuedEventArgs e)
    {
        if (e.IsDropped)
        {
            Interlocked.Increment(ref _droppedFromQueues);
            if (_sessions.TryGetValue(e.ReceiverClientId, out var tracked))
                Forget(tracked, e.ApplicationMessage.Topic, e.ApplicationMessage.Payload);
        }
        return Task.CompletedTask;
    }

    private static void Forget(Tracked tracked, string topic, System.Buffers.ReadOnlySequence<byte> payload)
    {
        lock (tracked)
        {
            var pending = tracked.Pending;
            for (var i = 0; i < pending.Count; i++)
            {
                if (!pending[i].Is(topic, payload)) continue;
                pending.RemoveAt(i);
                return;
            }
        }
    }

    private static MqttQualityOfServiceLevel EffectiveQos(StoredSession session, string topic, MqttQualityOfServiceLevel published)
    {
        var granted = -1;
        foreach (var s in session.Subscriptions)
        {
            if ((int)s.Qos > granted && TopicFilterText.Matches(SharedFilter(s.Filter), topic)) granted = (int)s.Qos;
        }
        if (granted < 0) return MqttQualityOfServiceLevel.AtMostOnce;
        return (MqttQualityOfServiceLevel)Math.Min(granted, (int)published);
    }

    /// <summary>The filter part of a shared subscription (MQTT 5 §4.8.2: <c>$share/{group}/{filter}</c>).</summary>
    private static string SharedFilter(string filter)
    {
        if (!filter.StartsWith("$share/", StringComparison.Ordinal)) return filter;
        var slash = filter.IndexOf('/', "$share/".Length);
        return slash < 0 ? filter : filter[(slash + 1)..];
    }

    // ---- restore and replay ----------------------------------------------------------------

    private async Task RestoreAsync(Tracked tracked)
    {
        var id = tracked.Stored.ClientId;
        List<MQTTnet.Packets.MqttTopicFilter> filters;
        lock (tracked)
        {
            filters = new List<MQTTnet.Packets.MqttTopicFilter>(tracked.Stored.Subscriptions.Count);
            foreach (var s in tracked.Stored.Subscriptions)
            {
                filters.Add(new MQTTnet.Packets.MqttTopicFilter
                {
                    Topic = s.Filter,
                    QualityOfServiceLevel = s.Qos,
                    NoLocal = s.NoLocal,
                    RetainAsPublished = s.RetainAsPublished,
                    // The subscription exists already: retained messages were sent when it was made.
                    RetainHandling = MqttRetainHandling.DoNotSendOnSubscribe,
                });
            }
        }
        // Subscribe first, then read the log up to its current end: a message appended in between is
        // queued by MQTTnet or replayed here (a position already pending is skipped), never neither.
        await _server.SubscribeAsync(id, filters).ConfigureAwait(false);
        var session = await _server.GetSessionAsync(id).ConfigureAwait(false);
        var replayed = 0;
        if (session is not null && _bridge.Catalog() is { } catalog)
        {
            var mapped = new HashSet<string>(_bridge.Options.Map.MappedLogTopics, StringComparer.Ordinal);
            foreach (var name in VisibleTopics())
            {
                if (!catalog.TryGet(name, out var topic) || topic is null) continue;
                for (var p = 0; p < topic.PartitionCount; p++)
                    replayed += Replay(tracked, session, topic[p], name, p, mapped.Contains(name));
            }
        }
        MqttPersistenceLog.SessionRestored(_logger, id, filters.Count, replayed);
    }

    private int Replay(Tracked tracked, MqttSessionStatus session, PartitionLog log, string topic, int partition, bool mapped)
    {
        long next;
        lock (tracked)
            next = tracked.Stored.Cursors.TryGetValue(StoredSession.CursorKey(topic, partition), out var c) ? c : log.LogStartOffset;
        var replayed = 0;
        MqttLogRangeReader.Read(log, Math.Max(next, log.LogStartOffset), log.HighWatermark, mapped, (offset, message, fromBridge) =>
        {
            var position = new LogPosition(topic, partition, offset);
            lock (tracked)
            {
                var qos = EffectiveQos(tracked.Stored, message.Topic, message.QualityOfServiceLevel);
                if (qos == MqttQualityOfServiceLevel.AtMostOnce || tracked.Pending.Exists(m => m.IsAt(position))) return true;
                message.QualityOfServiceLevel = qos;
                message.Retain = false;
                if (!session.TryEnqueueApplicationMessage(message, out _)) return true;
                tracked.Pending.Add(PendingMessage.Of(new LogPositionSlot(position), message.Topic, message.Payload));
            }
            replayed++;
            return true;
        });
        return replayed;
    }

    // ---- cursors ---------------------------------------------------------------------------

    private IEnumerable<string> VisibleTopics()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in _bridge.Options.Map.Rules)
            if (seen.Add(rule.LogTopic)) yield return rule.LogTopic;
    }

    /// <summary>High watermark of every partition an MQTT message can be in.</summary>
    private Dictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
        if (_bridge.Catalog() is not { } catalog) return snapshot;
        foreach (var name in VisibleTopics())
        {
            if (!catalog.TryGet(name, out var topic) || topic is null) continue;
            for (var p = 0; p < topic.PartitionCount; p++) snapshot[StoredSession.CursorKey(name, p)] = topic[p].HighWatermark;
        }
        return snapshot;
    }

    private void ResetCursors(StoredSession session)
    {
        session.Cursors.Clear();
        foreach (var (key, offset) in Snapshot()) session.Cursors[key] = offset;
    }

    private void Checkpoint(Dictionary<string, long> floor)
    {
        var dirty = new List<StoredSession>();
        var oldest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var tracked in _sessions.Values)
        {
            lock (tracked)
            {
                // A stored session MQTTnet does not hold yet keeps its cursors: nothing reached it.
                if (tracked.Live)
                {
                    oldest.Clear();
                    foreach (var m in tracked.Pending)
                    {
                        if (!m.Slot.TryGet(out var position)) continue;
                        var key = StoredSession.CursorKey(position.Topic, position.Partition);
                        if (!oldest.TryGetValue(key, out var o) || position.Offset < o) oldest[key] = position.Offset;
                    }
                    foreach (var (key, hw) in floor)
                    {
                        var cursor = oldest.TryGetValue(key, out var o) ? Math.Min(o, hw) : hw;
                        if (tracked.Stored.Cursors.TryGetValue(key, out var was) && was == cursor) continue;
                        tracked.Stored.Cursors[key] = cursor;
                        tracked.Dirty = true;
                    }
                }
                if (!tracked.Dirty) continue;
                tracked.Dirty = false;
                dirty.Add(tracked.Stored);
            }
        }
        _store.SaveMany(dirty);
    }

    private async Task ExpireAsync()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var tracked in _sessions.Values)
        {
            bool expired;
            lock (tracked) expired = tracked.Stored.IsExpired(now);
            if (!expired) continue;
            var id = tracked.Stored.ClientId;
            _sessions.TryRemove(id, out _);
            _store.Delete(id);
            MqttPersistenceLog.SessionExpired(_logger, id);
            // MQTT 5 §3.1.2.11.2: the server discards the session state once the interval has passed.
            if (await _server.GetSessionAsync(id).ConfigureAwait(false) is { } session)
                await session.DeleteAsync().ConfigureAwait(false);
        }
    }

}
