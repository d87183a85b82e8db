using EdgeStream.Mqtt.Persistence;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// An MQTT session of the own broker core: its subscriptions, the messages queued for it and the
/// QoS 1/2 messages in flight. The in-flight window is the client's Receive Maximum (MQTT 5
/// §3.3.4, 65535 when not given): a message beyond it waits in the queue. The queue is bounded by
/// <c>--mqtt-max-queued</c>: a QoS 1/2 message routed from the log that does not fit is read back
/// from the log later (<see cref="MqttSessionBacklog"/>), anything else drops the oldest such entry.
/// Survives its connection when persistent; a resumed session resends what is in flight, in order,
/// with DUP set (§4.4).
/// </summary>
public sealed class MqttCoreSession
{
    private readonly LinkedList<MqttCoreDelivery> _queue = new();
    private readonly Dictionary<ushort, MqttCoreDelivery> _inflight = [];
    private readonly int _maxQueued;
    private readonly MqttSessionBacklog _backlog = new();
    private readonly Action<MqttCoreSession>? _catchUp;
    private ushort _lastId;
    private long _sequence;
    private MqttCoreConnection? _connection;
    private int _receiveMaximum = ushort.MaxValue;
    // In-flight deliveries flagged Resend, at most: TryTakeNext scans the in-flight table only while
    // this is above 0, not once per delivery (the table holds up to the whole window).
    private int _resends;

    /// <param name="catchUp">Starts a catch-up read from the log for the session (off the caller's thread).</param>
    public MqttCoreSession(string clientId, int maxQueued, Action<MqttCoreSession>? catchUp = null)
    {
        ClientId = clientId;
        _maxQueued = maxQueued;
        _catchUp = catchUp;
    }

    /// <summary>QoS 1/2 messages beyond the queue are being read from the log.</summary>
    public bool IsReadingFromLog
    {
        get { lock (_queue) return _backlog.Active; }
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

    /// <summary>
    /// Queues a delivery, or leaves it to be read back from the log, or (not log-backed, queue full)
    /// drops the oldest entry that is not log-backed, the delivery itself when there is none.
    /// </summary>
    internal MqttEnqueueOutcome Enqueue(MqttCoreDelivery delivery)
    {
        MqttEnqueueOutcome outcome;
        lock (_queue)
        {
            if (delivery.LogBacked) outcome = EnqueueLogBacked(delivery);
            else
            {
                _queue.AddLast(delivery);
                outcome = MqttEnqueueOutcome.Queued;
                if (_queue.Count > _maxQueued)
                {
                    var oldest = _queue.First;
                    while (oldest!.Value.LogBacked) oldest = oldest.Next;
                    _queue.Remove(oldest);
                    outcome = MqttEnqueueOutcome.Dropped;
                }
            }
        }
        if (outcome == MqttEnqueueOutcome.Queued) Volatile.Read(ref _connection)?.Wake();
        return outcome;
    }

    private MqttEnqueueOutcome EnqueueLogBacked(MqttCoreDelivery delivery)
    {
        if (_backlog.Active)
        {
            if (_backlog.Discard(delivery) is not { } below) return MqttEnqueueOutcome.FromLog;
            _queue.AddLast(below);
            return MqttEnqueueOutcome.Queued;
        }
        if (_backlog.LastSeam is { } seam)
        {
            if (MqttLogPositions.TryGet(delivery.Message, out var position))
            {
                if (seam.Contains(position)) return MqttEnqueueOutcome.Duplicate;
            }
            else if (seam.IsRecent(Environment.TickCount64)) delivery.SeamCheck = seam;
        }
        if (_queue.Count >= _maxQueued)
        {
            var held = new List<MqttCoreDelivery>(_queue.Count + _inflight.Count);
            held.AddRange(_queue);
            held.AddRange(_inflight.Values);
            _backlog.Begin(held, delivery);
            return MqttEnqueueOutcome.ToLog;
        }
        _queue.AddLast(delivery);
        return MqttEnqueueOutcome.Queued;
    }

    /// <summary>
    /// The next packet to write: a resend of an in-flight message first, then the queue's head if the
    /// window has room (QoS 0 needs none). Expired messages are dropped on the way.
    /// </summary>
    internal bool TryTakeNext(long nowMs, out MqttCoreDelivery delivery, out int expired)
    {
        bool taken, catchUp;
        lock (_queue)
        {
            taken = TakeLocked(nowMs, out delivery, out expired);
            // The queue drained to half: the next chunk of what is owed is read from the log.
            catchUp = _backlog is { Active: true, Reading: false } && _connection is not null && _queue.Count <= _maxQueued / 2;
            if (catchUp) _backlog.Reading = true;
        }
        if (catchUp) _catchUp?.Invoke(this);
        return taken;
    }

    private bool TakeLocked(long nowMs, out MqttCoreDelivery delivery, out int expired)
    {
        expired = 0;
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
            if (next.SeamCheck is { } seam)
            {
                if (!SeamPassed(next, seam)) break;
                if (next.SeamCheck is not null)
                {
                    // The catch-up reader queued it already.
                    _queue.RemoveFirst();
                    continue;
                }
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
        delivery = null!;
        return false;
    }

    /// <summary>
    /// False while the delivery's append is still running (the writer is woken when it ends). Else its
    /// seam check is cleared unless its position lies in the ranges the reader read (a duplicate).
    /// </summary>
    private bool SeamPassed(MqttCoreDelivery delivery, MqttSessionBacklog.Seam seam)
    {
        if (!MqttLogPositions.TryGetSlot(delivery.Message, out var slot))
        {
            delivery.SeamCheck = null;
            return true;
        }
        if (slot.Pending is { } append)
        {
            if (!delivery.WakeOnAppend)
            {
                delivery.WakeOnAppend = true;
                append.ContinueWith(static (_, state) => ((MqttCoreSession)state!).Connection?.Wake(), this, CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return false;
        }
        if (!slot.TryGet(out var position) || !seam.Contains(position)) delivery.SeamCheck = null;
        return true;
    }

    // ---- the catch-up reader's side (MqttCoreBroker.CatchUp) --------------------------------

    /// <summary>Appends of deliveries routed while reading from the log whose positions are not known yet.</summary>
    internal List<Task> PendingAppends()
    {
        lock (_queue) return _backlog.PendingAppends();
    }

    /// <summary>
    /// Where to read next and how many deliveries the queue has room for; null (and the read ends) when
    /// the session no longer reads from the log or has no room.
    /// </summary>
    internal List<((string Topic, int Partition) Key, long Next)>? PlanRead(out int room, out long generation)
    {
        lock (_queue)
        {
            generation = _backlog.Generation;
            foreach (var below in _backlog.PlaceFinished()) _queue.AddLast(below);
            room = _maxQueued - _queue.Count;
            if (_backlog.Active && room > 0) return _backlog.ReadPlan();
            _backlog.Reading = false;
            return null;
        }
    }

    /// <summary>
    /// Under the routing lock: queues what was read (but what the queue held when reading began), moves
    /// the read positions, and switches back to live queuing when every partition was read up to its
    /// high watermark. True when this read ends (switched back, no room left or no progress).
    /// </summary>
    internal bool CompleteRead(long generation, List<MqttCoreDelivery> read, List<((string Topic, int Partition) Key, long Next)> advanced,
        bool progressed, int room, Func<string, int, long> highWatermark, out bool switchedBack)
    {
        switchedBack = false;
        bool done;
        lock (_queue)
        {
            if (generation != _backlog.Generation || !_backlog.Active)
            {
                _backlog.Reading = false;
                return true;
            }
            foreach (var d in read)
                if (!(MqttLogPositions.TryGet(d.Message, out var position) && _backlog.IsHeld(position))) _queue.AddLast(d);
            foreach (var (key, next) in advanced) _backlog.Advance(key, next);
            foreach (var below in _backlog.PlaceFinished()) _queue.AddLast(below);
            if (_backlog.TrySwitchBack(highWatermark, Environment.TickCount64, out var unplaced))
            {
                foreach (var d in unplaced) _queue.AddLast(d);
                switchedBack = true;
            }
            done = switchedBack || read.Count >= room || !progressed;
            if (done) _backlog.Reading = false;
        }
        Volatile.Read(ref _connection)?.Wake();
        return done;
    }

    /// <summary>Log records owed to the session were deleted by retention: true the first time (to log it once).</summary>
    internal bool FirstRetentionLoss()
    {
        lock (_queue)
        {
            if (_backlog.RetentionLogged) return false;
            _backlog.RetentionLogged = true;
            return true;
        }
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
            _backlog.Clear();
        }
    }

    /// <summary>
    /// The lowest log position, per "topic/partition", of the QoS 1/2 messages it still owes its client
    /// (queued, in flight, or still to be read from the log): the replay cursor cannot move past them. A position not known yet belongs
    /// to an append still in progress, which is at or above the checkpoint's floor anyway.
    /// </summary>
    internal void CollectOldest(Dictionary<string, long> oldest)
    {
        lock (_queue)
        {
            foreach (var d in _queue) Collect(d, oldest);
            foreach (var d in _inflight.Values) Collect(d, oldest);
            _backlog.CollectOldest(oldest);
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
