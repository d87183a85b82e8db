using EdgeStream.Mqtt.Persistence;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// Persistent sessions of the own core across restarts, in the same <c>mqtt_sessions</c> records as
/// <see cref="MqttSessionTracker"/> writes for MQTTnet (so a node can switch engines): subscriptions,
/// expiry and one replay cursor per log partition. Undelivered messages are not copied, they are in
/// the log: at start a stored session is rebuilt with its subscriptions and its queue is refilled
/// from the log from its cursors (what does not fit is read from the log when the client drains it,
/// see MqttCoreBroker.CatchUp). A cursor is, every second, the oldest position the session still
/// owes (queued or in flight) or, with none, the high watermark of the previous tick (a message is
/// routed right after its append starts; one tick covers that step).
/// </summary>
public sealed partial class MqttCoreBroker
{
    private Dictionary<string, long>? _floor;
    // Records are copied under the routing lock and written outside it, so two writes for one client can
    // race (a checkpoint's copy against a SUBSCRIBE's): each copy gets a version in routing-lock order and
    // the store is written under _persistLock, where an older copy than the last written one is skipped.
    private readonly object _persistLock = new();
    private readonly Dictionary<string, long> _written = new(StringComparer.Ordinal);
    private long _writeVersion;

    /// <summary>A record to write (<see cref="Save"/> null: delete it), versioned when it was taken.</summary>
    private readonly record struct SessionWrite(string ClientId, StoredSession? Save, long Version);

    /// <summary>Under the routing lock: a copy of the record as it is now.</summary>
    private SessionWrite Saving(StoredSession stored) => new(stored.ClientId, Copy(stored), ++_writeVersion);

    /// <summary>Under the routing lock: the record is to go.</summary>
    private SessionWrite Deletion(string clientId) => new(clientId, null, ++_writeVersion);

    /// <summary>Loads the stored sessions, puts their subscriptions into the trie and queues what the log holds for them.</summary>
    private void RestoreSessions()
    {
        if (_sessionStore is null) return;
        var nowUnix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var now = Environment.TickCount64;
        var restored = new List<MqttCoreSession>();
        foreach (var stored in _sessionStore.LoadAll())
        {
            if (stored.IsExpired(nowUnix))
            {
                _sessionStore.Delete(stored.ClientId);
                continue;
            }
            // A session that was connected when the node stopped was disconnected then.
            if (stored.DisconnectedAtMs == 0) stored.DisconnectedAtMs = nowUnix;
            var session = new MqttCoreSession(stored.ClientId, _limits.MaxQueued, StartCatchUp)
            {
                ExpirySeconds = stored.ExpirySeconds,
                // The session's clock is the tick count: the time it has been offline carries over.
                DisconnectedAtMs = Math.Max(1, now - Math.Max(0, nowUnix - stored.DisconnectedAtMs)),
                Stored = stored,
            };
            lock (_routing)
            {
                foreach (var s in stored.Subscriptions)
                {
                    if (!MqttCoreSubscription.TryParseShared(s.Filter, out var group, out var filter)) continue;
                    // Subscription identifiers are not stored (as with MQTTnet's tracker).
                    var subscription = new MqttCoreSubscription(session, filter, group, s.Qos, s.NoLocal, s.RetainAsPublished, s.RetainHandling, 0);
                    session.Subscriptions[s.Filter] = subscription;
                    _trie.Add(subscription);
                }
                _sessions[stored.ClientId] = session;
            }
            restored.Add(session);
        }
        if (restored.Count > 0) MqttPersistenceLog.SessionsLoaded(_logger, restored.Count);
        foreach (var session in restored)
        {
            int replayed;
            try
            {
                replayed = Replay(session);
            }
            catch (Exception ex) when (ex is EdgeStreamException or InvalidOperationException)
            {
                MqttPersistenceLog.RestoreFailed(_logger, session.ClientId, ex.Message);
                continue;
            }
            MqttPersistenceLog.SessionRestored(_logger, session.ClientId, session.Subscriptions.Count, replayed);
        }
    }

    /// <summary>Queues, in log order, every QoS 1/2 message from the session's cursors on that one of its subscriptions matches.</summary>
    private int Replay(MqttCoreSession session)
    {
        if (_bridge.Catalog() is not { } catalog) return 0;
        var mapped = new HashSet<string>(_bridge.Options.Map.MappedLogTopics, StringComparer.Ordinal);
        var replayed = 0;
        foreach (var name in VisibleTopics())
        {
            if (!catalog.TryGet(name, out var topic) || topic is null) continue;
            for (var p = 0; p < topic.PartitionCount; p++) replayed += Replay(session, topic[p], name, p, mapped.Contains(name));
        }
        return replayed;
    }

    private int Replay(MqttCoreSession session, PartitionLog log, string topic, int partition, bool mapped)
    {
        var stored = session.Stored!;
        var next = stored.Cursors.TryGetValue(StoredSession.CursorKey(topic, partition), out var c) ? c : log.LogStartOffset;
        var replayed = 0;
        MqttLogRangeReader.Read(log, Math.Max(next, log.LogStartOffset), log.HighWatermark, mapped, (offset, message, fromBridge) =>
        {
            var qos = ReplayQos(session, message.Topic, message.QualityOfServiceLevel);
            // QoS 0 was never owed: nothing to replay.
            if (qos == MqttQualityOfServiceLevel.AtMostOnce) return true;
            var position = new LogPosition(topic, partition, offset);
            MqttLogPositions.Set(message, position);
            // Only the follower injects a record a second time, and it injects Kafka records only
            // (what the bridge wrote was routed when it was published): remember just those.
            if (!fromBridge) lock (_routing) (session.Replayed ??= []).Add(position);
            replayed++;
            // Once the queue is full the rest of this partition is read from the log when the client drains it.
            return !Deliver(session, new MqttCoreDelivery(message, qos, false, null, null, ExpiresAt(message, Environment.TickCount64)) { LogBacked = true });
        });
        return replayed;
    }

    /// <summary>min(published, highest granted of the session's matching subscriptions); QoS 0 when none matches.</summary>
    private MqttQualityOfServiceLevel ReplayQos(MqttCoreSession session, string topic, MqttQualityOfServiceLevel published)
    {
        var granted = -1;
        lock (_routing)
            foreach (var s in session.Subscriptions.Values)
                if (MqttTopicFilter.Matches(s.Filter, topic)) granted = Math.Max(granted, (int)s.Qos);
        return granted < 0 ? MqttQualityOfServiceLevel.AtMostOnce : (MqttQualityOfServiceLevel)Math.Min(granted, (int)published);
    }

    /// <summary>A record the follower injects that the restart replay queued already for <paramref name="session"/>.</summary>
    private static bool ReplayedAlready(MqttCoreSession session, MqttApplicationMessage message) =>
        // Removed when met: the follower injects each record at most once more, so the set empties as it catches up.
        session.Replayed is { Count: > 0 } replayed && MqttLogPositions.TryGet(message, out var position) && replayed.Remove(position);

    /// <summary>
    /// After CONNECT (under the routing lock): a persistent session gets its stored record (a new one
    /// with cursors at the current ends of the log: nothing before it was owed); a session that is not
    /// persistent has none. Returns what to write outside the lock.
    /// </summary>
    private SessionWrite? PersistConnectLocked(MqttCoreSession session, bool present)
    {
        if (_sessionStore is null) return null;
        if (session.ExpirySeconds == 0)
        {
            if (session.Stored is null) return null;
            session.Stored = null;
            return Deletion(session.ClientId);
        }
        if (!present || session.Stored is null)
        {
            session.Stored = new StoredSession { ClientId = session.ClientId };
            foreach (var (key, offset) in Snapshot()) session.Stored.Cursors[key] = offset;
        }
        session.Stored.ExpirySeconds = session.ExpirySeconds;
        session.Stored.DisconnectedAtMs = 0;
        // Written before the CONNACK: a kill right after it still finds the session and its cursors.
        return Saving(session.Stored);
    }

    /// <summary>After SUBSCRIBE/UNSUBSCRIBE (under the routing lock): the subscriptions as they are now.</summary>
    private SessionWrite? PersistSubscriptionsLocked(MqttCoreSession session)
    {
        if (session.Stored is not { } stored) return null;
        stored.Subscriptions.Clear();
        foreach (var (requested, s) in session.Subscriptions)
            stored.Subscriptions.Add(new StoredSubscription(requested, s.Qos, s.NoLocal, s.RetainAsPublished, s.RetainHandling));
        return Saving(stored);
    }

    /// <summary>After the connection ended (under the routing lock): when, and the expiry its DISCONNECT may have changed.</summary>
    private SessionWrite? PersistCloseLocked(MqttCoreSession session)
    {
        if (session.Stored is not { } stored) return null;
        if (session.ExpirySeconds == 0)
        {
            session.Stored = null;
            return Deletion(session.ClientId);
        }
        stored.ExpirySeconds = session.ExpirySeconds;
        stored.DisconnectedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return Saving(stored);
    }

    private void Write(SessionWrite? change) => Write(change is { } c ? [c] : []);

    private void Write(List<SessionWrite> changes)
    {
        if (_sessionStore is null || changes.Count == 0) return;
        try
        {
            lock (_persistLock)
            {
                var saves = new List<StoredSession>(changes.Count);
                foreach (var change in changes)
                {
                    if (_written.TryGetValue(change.ClientId, out var written) && written > change.Version) continue;
                    _written[change.ClientId] = change.Version;
                    if (change.Save is not null) saves.Add(change.Save);
                    else _sessionStore.Delete(change.ClientId);
                }
                _sessionStore.SaveMany(saves);
            }
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or InvalidOperationException)
        {
            MqttPersistenceLog.CheckpointFailed(_logger, ex.Message);
        }
    }

    /// <summary>A copy to write outside the routing lock (the stored record keeps changing under it).</summary>
    private static StoredSession Copy(StoredSession s)
    {
        var copy = new StoredSession { ClientId = s.ClientId, ExpirySeconds = s.ExpirySeconds, DisconnectedAtMs = s.DisconnectedAtMs };
        copy.Subscriptions.AddRange(s.Subscriptions);
        foreach (var (key, offset) in s.Cursors) copy.Cursors[key] = offset;
        return copy;
    }

    /// <summary>Every second (from the sweep): cursors move up to what each persistent session still owes.</summary>
    private void CheckpointTick()
    {
        if (_sessionStore is null) return;
        try
        {
            var current = Snapshot();
            // The previous snapshot is the floor: every message below it has been routed by now.
            if (_floor is { } floor) Checkpoint(floor);
            _floor = current;
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or InvalidOperationException)
        {
            MqttPersistenceLog.CheckpointFailed(_logger, ex.Message);
        }
    }

    /// <summary>At stop, after the connections are closed: nothing is being routed, the current ends are the floor.</summary>
    private void FinalCheckpoint()
    {
        if (_sessionStore is null) return;
        try
        {
            Checkpoint(Snapshot());
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or InvalidOperationException)
        {
            MqttPersistenceLog.CheckpointFailed(_logger, ex.Message);
        }
    }

    private void Checkpoint(Dictionary<string, long> floor)
    {
        var dirty = new List<SessionWrite>();
        var oldest = new Dictionary<string, long>(StringComparer.Ordinal);
        lock (_routing)
        {
            foreach (var session in _sessions.Values)
            {
                if (session.Stored is not { } stored) continue;
                oldest.Clear();
                session.CollectOldest(oldest);
                var changed = false;
                foreach (var (key, hw) in floor)
                {
                    var cursor = oldest.TryGetValue(key, out var o) ? Math.Min(o, hw) : hw;
                    // A cursor only moves forward: below it everything was delivered or never owed.
                    if (stored.Cursors.TryGetValue(key, out var was) && was >= cursor) continue;
                    stored.Cursors[key] = cursor;
                    changed = true;
                }
                if (changed) dirty.Add(Saving(stored));
            }
        }
        Write(dirty);
    }

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
}
