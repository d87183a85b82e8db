using EdgeStream.Mqtt.Persistence;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// An MQTT session of the own broker core: its subscriptions, the messages queued for it and the
/// QoS 1/2 messages in flight. The in-flight window is the client's Receive Maximum (MQTT 5
/// §3.3.4, 65535 when not given): a message beyond it waits in the queue (bounded by
/// <c>--mqtt-max-queued</c>, oldest dropped). Survives its connection when persistent; a resumed
/// session resends what is in flight, in order, with DUP set (§4.4).
/// </summary>
public sealed class MqttCoreSession
{
    private readonly LinkedList<MqttCoreDelivery> _queue = new();
    private readonly Dictionary<ushort, MqttCoreDelivery> _inflight = [];
    private readonly int _maxQueued;
    private ushort _lastId;
    private long _sequence;
    private MqttCoreConnection? _connection;
    private int _receiveMaximum = ushort.MaxValue;
    // In-flight deliveries flagged Resend, at most: TryTakeNext scans the in-flight table only while
    // this is above 0, not once per delivery (the table holds up to the whole window).
    private int _resends;

    public MqttCoreSession(string clientId, int maxQueued)
    {
        ClientId = clientId;
        _maxQueued = maxQueued;
    }

    public string ClientId { get; }

    /// <summary>Subscriptions by filter as requested (with its <c>$share/</c> prefix); guarded by the broker's routing lock.</summary>
    internal Dictionary<string, MqttCoreSubscription> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>Session Expiry Interval in seconds (MQTT 5 §3.1.2.11.2); uint.MaxValue never expires (and MQTT 3.1.1 CleanSession=0).</summary>
    public uint ExpirySeconds { get; set; }

    /// <summary>When the last connection ended (<see cref="Environment.TickCount64"/>), 0 while connected.</summary>
    public long DisconnectedAtMs { get; set; }

    /// <summary>What meta.db holds of it while it is persistent (expiry ≠ 0); guarded by the broker's routing lock.</summary>
    internal StoredSession? Stored { get; set; }

    /// <summary>
    /// Log positions queued by the restart replay: the follower re-reads mapped records from its last saved
    /// position, and a record replayed already must not be queued twice. Guarded by the routing lock.
    /// </summary>
    internal HashSet<LogPosition>? Replayed { get; set; }

    public bool IsConnected => Volatile.Read(ref _connection) is not null;

    internal MqttCoreConnection? Connection => Volatile.Read(ref _connection);

    /// <summary>The in-flight window has room for one more QoS 1/2 message.</summary>
    public bool HasRoom
    {
        get { lock (_queue) return _inflight.Count < _receiveMaximum; }
    }

    /// <summary>QoS 1/2 messages sent and not acknowledged yet.</summary>
    public int InFlight
    {
        get { lock (_queue) return _inflight.Count; }
    }

    public int Queued
    {
        get { lock (_queue) return _queue.Count; }
    }

    public bool IsExpired(long nowMs) => ExpirySeconds != uint.MaxValue && DisconnectedAtMs > 0 && nowMs - DisconnectedAtMs >= ExpirySeconds * 1000L;

    /// <summary>
    /// Binds the session to <paramref name="connection"/> with the client's Receive Maximum: what was in
    /// flight is due again (DUP), PUBRELs first for QoS 2 messages already received by the client.
    /// </summary>
    internal void Attach(MqttCoreConnection connection, int receiveMaximum)
    {
        lock (_queue)
        {
            _connection = connection;
            _receiveMaximum = receiveMaximum;
            DisconnectedAtMs = 0;
            foreach (var delivery in _inflight.Values) delivery.Resend = true;
            _resends = _inflight.Count;
        }
    }

    /// <summary>Unbinds <paramref name="connection"/> if it is still the session's; false when a newer one took over.</summary>
    internal bool Detach(MqttCoreConnection connection)
    {
        lock (_queue)
        {
            if (!ReferenceEquals(_connection, connection)) return false;
            _connection = null;
            DisconnectedAtMs = Math.Max(1, Environment.TickCount64);
            return true;
        }
    }

    /// <summary>Queues a delivery; false when the oldest queued one was dropped to make room.</summary>
    internal bool Enqueue(MqttCoreDelivery delivery)
    {
        bool dropped = false;
        lock (_queue)
        {
            _queue.AddLast(delivery);
            if (_queue.Count > _maxQueued)
            {
                _queue.RemoveFirst();
                dropped = true;
            }
        }
        Volatile.Read(ref _connection)?.Wake();
        return !dropped;
    }

    /// <summary>
    /// The next packet to write: a resend of an in-flight message first, then the queue's head if the
    /// window has room (QoS 0 needs none). Expired messages are dropped on the way.
    /// </summary>
    internal bool TryTakeNext(long nowMs, out MqttCoreDelivery delivery, out int expired)
    {
        expired = 0;
        lock (_queue)
        {
            MqttCoreDelivery? resend = null;
            if (_resends > 0)
            {
                foreach (var d in _inflight.Values)
                    if (d.Resend && (resend is null || d.Sequence < resend.Sequence)) resend = d;
                // Flagged ones completed or handed over before their resend leave the count high: none found ends the scans.
                _resends = resend is null ? 0 : _resends - 1;
            }
            if (resend is not null)
            {
                resend.Resend = false;
                resend.Dup = !resend.Released;
                delivery = resend;
                return true;
            }
            while (_queue.First is { } first)
            {
                var next = first.Value;
                if (next.ExpiresAtMs != 0 && nowMs >= next.ExpiresAtMs)
                {
                    _queue.RemoveFirst();
                    expired++;
                    continue;
                }
                if (next.Qos != MqttQualityOfServiceLevel.AtMostOnce)
                {
                    if (_inflight.Count >= _receiveMaximum) break;
                    next.PacketId = NextId();
                    next.Sequence = ++_sequence;
                    _inflight[next.PacketId] = next;
                }
                _queue.RemoveFirst();
                delivery = next;
                return true;
            }
        }
        delivery = null!;
        return false;
    }

    /// <summary>A delivery taken but not sent (too large for the client): its window slot is freed.</summary>
    internal void Abandon(MqttCoreDelivery delivery)
    {
        if (delivery.PacketId == 0) return;
        lock (_queue) _inflight.Remove(delivery.PacketId);
        delivery.PacketId = 0;
    }

    /// <summary>PUBACK (QoS 1) or PUBCOMP (QoS 2): the message is done. False for an unknown id.</summary>
    internal bool Complete(ushort packetId, out MqttCoreDelivery? delivery)
    {
        lock (_queue)
        {
            if (!_inflight.Remove(packetId, out delivery)) return false;
        }
        Volatile.Read(ref _connection)?.Wake();
        return true;
    }

    /// <summary>PUBREC: the client has the QoS 2 message; it stays in flight until PUBCOMP.</summary>
    internal bool Received(ushort packetId)
    {
        lock (_queue)
        {
            if (!_inflight.TryGetValue(packetId, out var delivery)) return false;
            delivery.Released = true;
            return true;
        }
    }

    /// <summary>
    /// Takes out every shared-subscription delivery not yet received by this client (queued, or in
    /// flight without PUBREC) so that another member of its group gets it (§4.8.2).
    /// </summary>
    internal List<MqttCoreDelivery> TakeShared()
    {
        var taken = new List<MqttCoreDelivery>();
        lock (_queue)
        {
            var inflight = new List<MqttCoreDelivery>();
            foreach (var d in _inflight.Values)
                if (d.Group is not null && !d.Released) inflight.Add(d);
            inflight.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
            foreach (var d in inflight)
            {
                _inflight.Remove(d.PacketId);
                taken.Add(d);
            }
            for (var node = _queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Group is not null)
                {
                    taken.Add(node.Value);
                    _queue.Remove(node);
                }
                node = next;
            }
        }
        return taken;
    }

    /// <summary>Drops everything queued and in flight (a clean start).</summary>
    internal void Clear()
    {
        lock (_queue)
        {
            _queue.Clear();
            _inflight.Clear();
        }
    }

    /// <summary>
    /// The lowest log position, per "topic/partition", of the QoS 1/2 messages it still owes its client
    /// (queued or in flight): the replay cursor cannot move past them. A position not known yet belongs
    /// to an append still in progress, which is at or above the checkpoint's floor anyway.
    /// </summary>
    internal void CollectOldest(Dictionary<string, long> oldest)
    {
        lock (_queue)
        {
            foreach (var d in _queue) Collect(d, oldest);
            foreach (var d in _inflight.Values) Collect(d, oldest);
        }

        static void Collect(MqttCoreDelivery d, Dictionary<string, long> oldest)
        {
            if (d.Qos == MqttQualityOfServiceLevel.AtMostOnce || !MqttLogPositions.TryGet(d.Message, out var position)) return;
            var key = StoredSession.CursorKey(position.Topic, position.Partition);
            if (!oldest.TryGetValue(key, out var o) || position.Offset < o) oldest[key] = position.Offset;
        }
    }

    private ushort NextId()
    {
        // §2.2.1: non-zero, not in use by another in-flight message of this session.
        do
        {
            _lastId = _lastId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastId + 1);
        } while (_inflight.ContainsKey(_lastId));
        return _lastId;
    }
}
