using EdgeStream.Metadata;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Topic discovery: the local partitions the sender forwards. A topic is in when
/// <see cref="UplinkTopicRules"/> selects it (<c>--uplink-topics</c>) and its target name (prefix or
/// rename) is a valid topic name; the catalog is polled, so topics and partitions created later are
/// picked up and deleted or re-created ones dropped, their cursors too. The list and every
/// <see cref="PartitionState"/> are guarded by the forwarder's lock (<c>gate</c>):
/// <see cref="Refresh"/>, <see cref="SaveCursors"/> and <see cref="PublishBacklog"/> take it, the
/// other members expect the caller to hold it.
/// </summary>
internal sealed class UplinkPartitionSet(object gate, UplinkTopicRules rules, UplinkCursors cursors, ReadAheadBudget readAhead, ILogger logger)
{
    private readonly List<PartitionState> _partitions = [];
    private readonly Dictionary<string, PartitionState> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Guid> _topicIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _badTargets = new(StringComparer.Ordinal);

    /// <summary>Every forwarded partition; new ones are appended, so the order is stable for the scheduler's rotation.</summary>
    public IReadOnlyList<PartitionState> Items => _partitions;

    /// <summary>Every partition sends again from its cursor (a new connection).</summary>
    public void RewindAll()
    {
        foreach (var p in _partitions) p.Rewind(readAhead);
    }

    /// <summary>Picks up new topics and partitions, and drops deleted ones (their cursors too). True when partitions were added.</summary>
    public bool Refresh(TopicCatalog catalog)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var added = false;
        List<string>? deletedCursors = null;
        foreach (var topic in catalog.Topics)
        {
            var name = topic.Name;
            if (!rules.Includes(name)) continue;
            var target = rules.TargetOf(name);
            if (!LogManager.IsValidTopicName(target))
            {
                if (_badTargets.Add(name)) UplinkSenderLog.BadTarget(logger, name, target);
                continue;
            }
            seen.Add(name);
            var id = catalog.TopicId(name);
            lock (gate)
            {
                if (_topicIds.TryGetValue(name, out var known) && known != id)
                {
                    // Deleted and created again between two polls: a new log, new cursors.
                    RemoveTopic(name, deletedCursors ??= []);
                }
                _topicIds[name] = id;
                var partitions = topic.Partitions;
                var newTopic = true;
                for (var i = 0; i < partitions.Count; i++)
                {
                    var key = UplinkCursors.KeyOf(name, i);
                    if (_byKey.TryGetValue(key, out var existing))
                    {
                        existing.PartitionCount = partitions.Count;
                        newTopic = false;
                        continue;
                    }
                    var state = new PartitionState(topic, partitions[i], key, target, UplinkCursors.TopicIdText(id));
                    state.Acked = cursors.StartOffset(state);
                    state.SendPosition = state.Acked;
                    _partitions.Add(state);
                    _byKey[key] = state;
                    added = true;
                }
                if (newTopic && partitions.Count > 0)
                    UplinkSenderLog.Forwarding(logger, name, target, partitions.Count, TopicConfigKeys.UplinkPriorityOf(topic.Config));
            }
        }
        lock (gate)
        {
            foreach (var name in new List<string>(_topicIds.Keys))
            {
                if (!seen.Contains(name)) RemoveTopic(name, deletedCursors ??= []);
            }
        }
        if (deletedCursors is { Count: > 0 }) cursors.Delete(deletedCursors);
        return added;
    }

    private void RemoveTopic(string name, List<string> deletedCursors)
    {
        _topicIds.Remove(name);
        for (var i = _partitions.Count - 1; i >= 0; i--)
        {
            var p = _partitions[i];
            if (p.Topic != name) continue;
            p.Removed = true;
            p.Generation++;
            readAhead.Release(p);
            _partitions.RemoveAt(i);
            _byKey.Remove(p.CursorKey);
            deletedCursors.Add(p.CursorKey);
        }
    }

    /// <summary>Writes the cursors that moved since the last save.</summary>
    public void SaveCursors()
    {
        var dirty = new List<(string Key, long Number, string? Text)>();
        lock (gate)
        {
            foreach (var p in _partitions)
            {
                if (!p.Dirty || p.Removed) continue;
                dirty.Add((p.CursorKey, p.Acked, p.TopicId));
                p.Dirty = false;
            }
        }
        if (dirty.Count == 0) return;
        if (cursors.TryPut(dirty, out var error)) return;
        // Not saved: the next flush tries again (a re-send after a crash is harmless anyway).
        lock (gate)
        {
            foreach (var (key, _, _) in dirty)
            {
                if (_byKey.TryGetValue(key, out var p)) p.Dirty = true;
            }
        }
        UplinkSenderLog.CursorSaveFailed(logger, error);
    }

    /// <summary>Sets the backlog per partition (high watermark - cursor) in <paramref name="status"/>.</summary>
    public void PublishBacklog(UplinkStatus status)
    {
        lock (gate)
        {
            var backlog = new PartitionBacklog[_partitions.Count];
            var now = Environment.TickCount64;
            for (var i = 0; i < backlog.Length; i++)
            {
                var p = _partitions[i];
                var hwm = p.Log.HighWatermark;
                // The oldest unacknowledged record arrived after the partition was last caught up: the
                // time since then bounds its age from above, without reading the log to find it.
                if (p.Acked >= hwm) p.BehindSinceMs = 0;
                else if (p.BehindSinceMs == 0) p.BehindSinceMs = now;
                var age = p.BehindSinceMs == 0 ? 0 : (now - p.BehindSinceMs) / 1000.0;
                // Bytes estimated from the partition's average record size: exact positions would need an index lookup per partition per second.
                var held = p.Log.LogEndOffset - p.Log.LogStartOffset;
                var records = Math.Max(0, hwm - p.Acked);
                var bytes = held > 0 ? (long)((double)p.Log.SizeBytes / held * records) : 0;
                backlog[i] = new PartitionBacklog(p.Topic, p.Partition, p.Acked, hwm, bytes, age);
            }
            status.SetBacklog(backlog);
        }
    }
}
