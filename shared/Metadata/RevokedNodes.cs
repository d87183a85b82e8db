using System.Collections.Frozen;
using LiteDB;

namespace EdgeStream.Metadata;

/// <summary>A node on the deny list and since when (Unix milliseconds in the store).</summary>
public sealed record RevokedNode(string NodeId, DateTimeOffset RevokedAt);

/// <summary>
/// The node ids a parent refuses uplinks from, in <c>meta.db</c> (collection <c>revoked_nodes</c>, one
/// document per node id), so a revocation outlives a restart. The uplink asks on every frame, so reads
/// come from an immutable snapshot replaced on each change, never from the database.
/// </summary>
public sealed class RevokedNodes
{
    private const string CollectionName = "revoked_nodes";
    private readonly MetadataStore _store;
    private readonly object _writeLock = new();
    private volatile FrozenSet<string> _snapshot;

    public RevokedNodes(MetadataStore store)
    {
        _store = store;
        _snapshot = Load();
    }

    /// <summary>True when <paramref name="nodeId"/> is revoked. Lock-free.</summary>
    public bool Contains(string nodeId) => _snapshot.Contains(nodeId);

    /// <summary>Every revoked node, ordered by id.</summary>
    public IReadOnlyList<RevokedNode> List() => _store.WithCollection(CollectionName, col =>
    {
        var list = new List<RevokedNode>();
        foreach (var doc in col.FindAll()) list.Add(new RevokedNode(doc["_id"].AsString, MetadataStore.FromMs(doc["revokedAt"].AsInt64)));
        list.Sort((a, b) => string.CompareOrdinal(a.NodeId, b.NodeId));
        return list;
    });

    /// <summary>Adds <paramref name="nodeId"/> to the list; false when it was there already (its date is kept).</summary>
    public bool Revoke(string nodeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        lock (_writeLock)
        {
            var added = _store.WithCollection(CollectionName, col =>
                col.FindById(nodeId) is null
                && col.Insert(new BsonDocument { ["_id"] = nodeId, ["revokedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }) is not null);
            if (added) _snapshot = Load();
            return added;
        }
    }

    /// <summary>Removes <paramref name="nodeId"/> from the list; false when it was not on it.</summary>
    public bool Unrevoke(string nodeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        lock (_writeLock)
        {
            var removed = _store.WithCollection(CollectionName, col => col.Delete(nodeId));
            if (removed) _snapshot = Load();
            return removed;
        }
    }

    private FrozenSet<string> Load() => _store.WithCollection(CollectionName, col =>
    {
        var ids = new List<string>();
        foreach (var doc in col.FindAll()) ids.Add(doc["_id"].AsString);
        return ids.ToFrozenSet(StringComparer.Ordinal);
    });
}
