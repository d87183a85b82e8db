using EdgeStream.Mqtt.Persistence;
using MQTTnet;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// The part of a session's QoS 1/2 queue that lives in the log (issue 16, "the log is the queue"):
/// once the in-memory queue is full, what is routed to the session is not kept but remembered as a
/// read position per log topic-partition, and the catch-up reader queues it from the log as the queue
/// drains. Bookkeeping only, no I/O; guarded by the session's queue lock.
/// <para>
/// Per partition, <c>Start</c> is the lowest position not kept and <c>Next</c> where reading goes on:
/// a message routed while reading from the log at a position ≥ <c>Start</c> is in the log range the
/// reader walks (read already below <c>Next</c>, later above it), so it is dropped from memory. One
/// below <c>Start</c> (a publisher whose append started earlier but was routed later) is queued as it
/// comes. Switching back to live queuing happens under the routing lock when every partition was read
/// up to its high watermark; the ranges read, [Start, Next), become the seam: a message the router
/// delivers afterwards at a position in them was queued by the reader already and is skipped.
/// </para>
/// </summary>
internal sealed class MqttSessionBacklog
{
    /// <summary>A log partition's read state while the session reads from the log.</summary>
    internal sealed class Range(long start)
    {
        public long Start = start;
        public long Next = start;
    }

    /// <summary>
    /// The ranges read before the switch back: a live delivery in them is a duplicate. A delivery routed
    /// with its append still running is checked when it is sent, for a while after the switch (an append
    /// that started before it is routed within that time; the persistence sweep makes the same bet).
    /// </summary>
    internal sealed class Seam(Dictionary<(string Topic, int Partition), (long Start, long End)> ranges, long switchedAtMs)
    {
        private const long CheckUnplacedMs = 5_000;

        public bool Contains(LogPosition p) =>
            ranges.TryGetValue((p.Topic, p.Partition), out var r) && p.Offset >= r.Start && p.Offset < r.End;

        public bool IsRecent(long nowMs) => nowMs - switchedAtMs < CheckUnplacedMs;
    }

    private readonly Dictionary<(string Topic, int Partition), Range> _ranges = [];
    // Routed while reading from the log, position not known yet (the append is running): placed when it is.
    private readonly List<MqttCoreDelivery> _unplaced = [];
    // Queued or in flight when reading from the log began: the reader must not queue them again.
    private readonly HashSet<LogPosition> _held = [];
    private readonly List<MqttApplicationMessage> _heldUnplaced = [];

    /// <summary>Reading from the log: QoS 1/2 deliveries are not kept in memory.</summary>
    public bool Active { get; private set; }

    /// <summary>A catch-up read is running (one per session).</summary>
    public bool Reading { get; set; }

    /// <summary>Bumped when the session is cleared: a read started before does not apply.</summary>
    public long Generation { get; private set; }

    /// <summary>Set at the switch back to live queuing; replaced at the next switch to the log.</summary>
    public Seam? LastSeam { get; private set; }

    /// <summary>Logged once per session: the log no longer held messages it was owed.</summary>
    public bool RetentionLogged { get; set; }

    /// <summary>The queue is full: from <paramref name="first"/> on, QoS 1/2 messages come from the log.</summary>
    public MqttCoreDelivery? Begin(IEnumerable<MqttCoreDelivery> held, MqttCoreDelivery first)
    {
        Active = true;
        LastSeam = null;
        foreach (var d in held)
        {
            if (!d.LogBacked || !MqttLogPositions.TryGetSlot(d.Message, out var slot)) continue;
            if (slot.TryGet(out var position)) _held.Add(position);
            else if (slot.Pending is not null) _heldUnplaced.Add(d.Message);
        }
        return Discard(first);
    }

    /// <summary>
    /// A QoS 1/2 delivery routed while reading from the log: dropped from memory, or returned when it lies
    /// below every range read (it must be queued as it is).
    /// </summary>
    public MqttCoreDelivery? Discard(MqttCoreDelivery delivery)
    {
        if (!MqttLogPositions.TryGetSlot(delivery.Message, out var slot) || slot.Failed) return null;
        if (slot.TryGet(out var position)) return Place(position, delivery);
        _unplaced.Add(delivery);
        return null;
    }

    private MqttCoreDelivery? Place(LogPosition position, MqttCoreDelivery delivery)
    {
        var key = (position.Topic, position.Partition);
        if (!_ranges.TryGetValue(key, out var range))
        {
            _ranges[key] = new Range(position.Offset);
            return null;
        }
        if (position.Offset >= range.Start) return null;
        // Nothing read yet in this partition: the range just starts lower.
        if (range.Next == range.Start)
        {
            range.Start = range.Next = position.Offset;
            return null;
        }
        return delivery;
    }

    /// <summary>Appends whose positions are awaited before the next read.</summary>
    public List<Task> PendingAppends()
    {
        var pending = new List<Task>();
        foreach (var d in _unplaced)
            if (MqttLogPositions.TryGetSlot(d.Message, out var slot) && slot.Pending is { } task) pending.Add(task);
        foreach (var m in _heldUnplaced)
            if (MqttLogPositions.TryGetSlot(m, out var slot) && slot.Pending is { } task) pending.Add(task);
        return pending;
    }

    /// <summary>Places the deliveries whose appends finished, in routing order; returns those to queue as they are.</summary>
    public List<MqttCoreDelivery> PlaceFinished()
    {
        var queue = new List<MqttCoreDelivery>();
        _heldUnplaced.RemoveAll(m =>
        {
            if (!MqttLogPositions.TryGetSlot(m, out var slot) || slot.Failed) return true;
            if (!slot.TryGet(out var position)) return false;
            _held.Add(position);
            return true;
        });
        _unplaced.RemoveAll(d =>
        {
            if (!MqttLogPositions.TryGetSlot(d.Message, out var slot) || slot.Failed) return true;
            if (!slot.TryGet(out var position)) return false;
            if (Place(position, d) is { } below) queue.Add(below);
            return true;
        });
        return queue;
    }

    /// <summary>Where to read next, per partition.</summary>
    public List<((string Topic, int Partition) Key, long Next)> ReadPlan()
    {
        var plan = new List<((string, int), long)>(_ranges.Count);
        foreach (var (key, range) in _ranges) plan.Add((key, range.Next));
        return plan;
    }

    /// <summary>Queued (or in flight) already when reading from the log began: not to be queued again.</summary>
    public bool IsHeld(LogPosition position) => _held.Count > 0 && _held.Remove(position);

    public void Advance((string Topic, int Partition) key, long next)
    {
        if (_ranges.TryGetValue(key, out var range) && next > range.Next) range.Next = next;
    }

    /// <summary>
    /// Under the routing lock (no live delivery in between): when every partition was read up to
    /// <paramref name="highWatermark"/>, back to live queuing. Deliveries still waiting for their append
    /// are returned, to be queued in routing order and checked against the seam when they are sent.
    /// </summary>
    public bool TrySwitchBack(Func<string, int, long> highWatermark, long nowMs, out List<MqttCoreDelivery> unplaced)
    {
        unplaced = [];
        foreach (var (key, range) in _ranges)
            if (range.Next < highWatermark(key.Topic, key.Partition)) return false;
        var seam = new Dictionary<(string, int), (long, long)>(_ranges.Count);
        foreach (var (key, range) in _ranges) seam[key] = (range.Start, range.Next);
        LastSeam = new Seam(seam, nowMs);
        unplaced.AddRange(_unplaced);
        foreach (var d in unplaced) d.SeamCheck = LastSeam;
        Reset();
        return true;
    }

    /// <summary>The lowest position per "topic/partition" it still owes from the log (for the replay cursor).</summary>
    public void CollectOldest(Dictionary<string, long> oldest)
    {
        foreach (var (key, range) in _ranges)
        {
            var cursorKey = StoredSession.CursorKey(key.Topic, key.Partition);
            if (!oldest.TryGetValue(cursorKey, out var o) || range.Next < o) oldest[cursorKey] = range.Next;
        }
    }

    /// <summary>A clean start or an expiry: nothing is owed any more.</summary>
    public void Clear()
    {
        Reset();
        LastSeam = null;
        Generation++;
    }

    private void Reset()
    {
        Active = false;
        _ranges.Clear();
        _unplaced.Clear();
        _held.Clear();
        _heldUnplaced.Clear();
    }
}
