using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// Updates waiting to be piggybacked, each sent a bounded number of times. The least-sent go
/// first (newest first among equals), so a fresh update, a refutation above all, rides the very
/// next datagram. A newer update about a member replaces the queued one: only the latest state
/// is worth spreading. Not thread-safe (used under the engine's lock).
/// </summary>
internal sealed class BroadcastQueue
{
    private static readonly Comparison<Item> Order = static (a, b) =>
        a.Transmits != b.Transmits ? a.Transmits.CompareTo(b.Transmits) : b.Id.CompareTo(a.Id);

    private readonly List<Item> _items = [];
    private long _nextId;

    public int Count => _items.Count;

    public void Enqueue(string nodeId, byte[] update)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            if (_items[i].NodeId == nodeId)
            {
                _items.RemoveAt(i);
                break;
            }
        }
        _items.Add(new Item(nodeId, update, ++_nextId));
    }

    /// <summary>Appends as many updates as fit; each appended one counts a transmission and is dropped after <paramref name="limit"/>.</summary>
    public void Fill(DatagramBuilder datagram, int limit)
    {
        if (_items.Count == 0) return;
        _items.Sort(Order);
        var removed = false;
        foreach (var item in _items)
        {
            // The smallest update is ~20 bytes; below that nothing else can fit.
            if (datagram.Remaining < 20) break;
            if (!datagram.TryAppend(item.Update)) continue;
            if (++item.Transmits >= limit) removed = true;
        }
        if (removed) _items.RemoveAll(i => i.Transmits >= limit);
    }

    private sealed class Item(string nodeId, byte[] update, long id)
    {
        public string NodeId { get; } = nodeId;
        public byte[] Update { get; } = update;
        public long Id { get; } = id;
        public int Transmits { get; set; }
    }
}
