namespace EdgeStream.Kafka.Fetch;

/// <summary>
/// One incremental fetch session (KIP-227): the partitions a consumer fetches, with what it asked
/// for each and what this broker last told it, so an incremental request carries only what changed
/// on the client's side and the response only what changed on ours. Used by one request at a time
/// (a client waits for a session's response before its next request); <see cref="Gate"/> keeps two
/// that race anyway apart.
/// </summary>
internal sealed class FetchSession
{
    private readonly Dictionary<FetchSessionKey, FetchSessionPartition> _byKey = [];

    public FetchSession(int id) => Id = id;

    public int Id { get; }
    /// <summary>The epoch the next incremental request must carry: 1 after the request that created the session.</summary>
    public int NextEpoch { get; set; } = 1;
    /// <summary>The partitions in fetch order. Partitions that returned records move to the end, so a
    /// response limited by max bytes does not serve the same partitions first every time.</summary>
    public List<FetchSessionPartition> Partitions { get; } = [];
    public object Gate { get; } = new();
    /// <summary>Position in the cache's least-recently-used list.</summary>
    internal LinkedListNode<FetchSession>? Node { get; set; }

    /// <summary>Adds the partition or updates what the client asks of it.</summary>
    public void Upsert(FetchSessionKey key, long fetchOffset, int maxBytes)
    {
        if (_byKey.TryGetValue(key, out var existing))
        {
            existing.FetchOffset = fetchOffset;
            existing.MaxBytes = maxBytes;
            return;
        }
        var partition = new FetchSessionPartition(key) { FetchOffset = fetchOffset, MaxBytes = maxBytes };
        _byKey[key] = partition;
        Partitions.Add(partition);
    }

    public void Forget(FetchSessionKey key)
    {
        if (_byKey.Remove(key, out var partition)) Partitions.Remove(partition);
    }

    /// <summary>Moves partitions that returned records behind the others, keeping each group's order.</summary>
    public void Rotate(HashSet<FetchSessionPartition> served)
    {
        if (served.Count == 0 || served.Count == Partitions.Count) return;
        var reordered = new List<FetchSessionPartition>(Partitions.Count);
        foreach (var p in Partitions) if (!served.Contains(p)) reordered.Add(p);
        foreach (var p in Partitions) if (served.Contains(p)) reordered.Add(p);
        Partitions.Clear();
        Partitions.AddRange(reordered);
    }
}

/// <summary>
/// A partition as a fetch names it: by topic id from Fetch v13 (<see cref="Topic"/> empty), by name
/// before (<see cref="TopicId"/> empty). A session keeps the form its requests use.
/// </summary>
internal readonly record struct FetchSessionKey(Guid TopicId, string Topic, int Partition);

/// <summary>A session's partition: the client's fetch position and limit, and the figures last sent for it.</summary>
internal sealed class FetchSessionPartition(FetchSessionKey key)
{
    public FetchSessionKey Key { get; } = key;
    public long FetchOffset { get; set; }
    public int MaxBytes { get; set; }
    // -2: never sent, so the first incremental response after the partition joins includes it.
    public long SentHighWatermark { get; set; } = -2;
    public long SentLogStartOffset { get; set; } = -2;
}
