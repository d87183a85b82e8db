using LiteDB;

namespace EdgeStream.Metadata;

/// <summary>
/// The node's small, durable facts in one LiteDB file (<c>{data}/meta.db</c>): its identity,
/// the topics it knows, and keyed collections for consumer offsets, uplink cursors and the like.
/// Only <see cref="BsonDocument"/> is used (no reflection mapper), so it stays trim/AOT friendly.
/// Thread-safe: every operation takes one lock; metadata writes are rare and small.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const string NodeCollection = "node";
    private const string TopicCollection = "topics";
    private const string IdentityKey = "identity";
    private const string KeyedPrefix = "kv_";

    private readonly LiteDatabase _db;
    private readonly Lock _lock = new();
    private bool _disposed;

    private MetadataStore(string path, LiteDatabase db)
    {
        FilePath = path;
        _db = db;
    }

    /// <summary>The database file.</summary>
    public string FilePath { get; }

    /// <summary>Opens (or creates) the store. A file another process holds open, or an unreadable file, is a <see cref="MetadataException"/>.</summary>
    public static MetadataStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        try
        {
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var cs = new ConnectionString { Filename = full, Connection = ConnectionType.Direct, Upgrade = false };
            var db = new LiteDatabase(cs);
            try
            {
                // Touch the file now so that a lock or corruption problem surfaces at start-up, not on first use.
                _ = db.GetCollection(NodeCollection).FindById(IdentityKey);
            }
            catch
            {
                db.Dispose();
                throw;
            }
            return new MetadataStore(full, db);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or StackOverflowException or ArgumentNullException))
        {
            // A damaged file makes LiteDB throw almost anything (LiteException, ArgumentOutOfRange from a
            // garbage header, InvalidCast...): every one of them means "this file cannot be used".
            throw new MetadataException($"metadata store '{full}' cannot be opened: {ex.Message} (if it is damaged, move it aside; the node then starts with a new id)", ex);
        }
    }

    /// <summary>The node's identity, or null before <see cref="EnsureNodeIdentity"/> has run once.</summary>
    public NodeIdentity? GetNodeIdentity()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var doc = _db.GetCollection(NodeCollection).FindById(IdentityKey);
            return doc is null ? null : new NodeIdentity(doc["nodeId"].AsString, FromMs(doc["createdAt"].AsInt64), null, false);
        }
    }

    /// <summary>
    /// Returns the node id kept in the store, creating it on first use. The id belongs to the data
    /// directory: it is generated once as <c>{rolePrefix}-xxxxxxxx</c> (8 random hex digits) and kept.
    /// When <paramref name="requestedNodeId"/> is given it wins: it is stored on first use, and a
    /// different stored id is replaced (the result names the previous id so the caller can log it).
    /// </summary>
    public NodeIdentity EnsureNodeIdentity(string rolePrefix, string? requestedNodeId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rolePrefix);
        lock (_lock)
        {
            ThrowIfDisposed();
            var col = _db.GetCollection(NodeCollection);
            var existing = col.FindById(IdentityKey);
            var now = DateTimeOffset.UtcNow;
            if (existing is not null)
            {
                var storedId = existing["nodeId"].AsString;
                var created = FromMs(existing["createdAt"].AsInt64);
                if (requestedNodeId is null || requestedNodeId == storedId)
                    return new NodeIdentity(storedId, created, null, false);

                existing["nodeId"] = requestedNodeId;
                existing["previousNodeId"] = storedId;
                existing["updatedAt"] = now.ToUnixTimeMilliseconds();
                col.Upsert(existing);
                _db.Checkpoint();
                return new NodeIdentity(requestedNodeId, created, storedId, false);
            }

            // Random.Shared (seeded from the OS) is enough for a name that only has to be unlikely to repeat; the
            // crypto generator would load OpenSSL at start-up, which a device may lack and which costs ~3 MB RSS.
            var id = requestedNodeId ?? $"{rolePrefix}-{Random.Shared.NextInt64(1L << 32):x8}";
            col.Upsert(new BsonDocument
            {
                ["_id"] = IdentityKey,
                ["nodeId"] = id,
                ["createdAt"] = now.ToUnixTimeMilliseconds(),
                ["updatedAt"] = now.ToUnixTimeMilliseconds(),
            });
            _db.Checkpoint();
            return new NodeIdentity(id, now, null, true);
        }
    }

    /// <summary>Creates or replaces a topic's metadata.</summary>
    public void UpsertTopic(StoredTopic topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic.Name);
        ArgumentOutOfRangeException.ThrowIfLessThan(topic.Partitions, 1);
        var config = new BsonDocument();
        foreach (var (k, v) in topic.Config) config[k] = v;
        lock (_lock)
        {
            ThrowIfDisposed();
            var col = _db.GetCollection(TopicCollection);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var existing = col.FindById(topic.Name);
            col.Upsert(new BsonDocument
            {
                ["_id"] = topic.Name,
                ["partitions"] = topic.Partitions,
                ["config"] = config,
                ["createdAt"] = existing?["createdAt"] ?? now,
                ["updatedAt"] = now,
            });
        }
    }

    /// <summary>One topic's metadata, or null.</summary>
    public StoredTopic? GetTopic(string name)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var doc = _db.GetCollection(TopicCollection).FindById(name);
            return doc is null ? null : ToTopic(doc);
        }
    }

    /// <summary>Deletes a topic's metadata; false when there was none.</summary>
    public bool DeleteTopic(string name)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            return _db.GetCollection(TopicCollection).Delete(name);
        }
    }

    /// <summary>Every topic, ordered by name.</summary>
    public IReadOnlyList<StoredTopic> ListTopics()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var list = new List<StoredTopic>();
            foreach (var doc in _db.GetCollection(TopicCollection).FindAll()) list.Add(ToTopic(doc));
            list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return list;
        }
    }

    /// <summary>
    /// A named keyed collection (e.g. <c>offsets</c>, <c>uplink_cursors</c>). Names are 1-32 of
    /// letters, digits and '_'. The handle is cheap; it shares this store's lock.
    /// </summary>
    public MetadataCollection Collection(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Length > 32) throw new ArgumentException("collection name is longer than 32 characters", nameof(name));
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw new ArgumentException($"collection name '{name}' may hold only letters, digits and '_'", nameof(name));
        }
        return new MetadataCollection(this, KeyedPrefix + name);
    }

    internal T WithCollection<T>(string collection, Func<ILiteCollection<BsonDocument>, T> action)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            return action(_db.GetCollection(collection));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _db.Dispose();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static StoredTopic ToTopic(BsonDocument doc)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (doc["config"].IsDocument)
        {
            foreach (var (k, v) in doc["config"].AsDocument) config[k] = v.AsString;
        }
        return new StoredTopic(doc["_id"].AsString, doc["partitions"].AsInt32, config);
    }

    internal static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

/// <summary>Who this node is.</summary>
/// <param name="NodeId">The id in force.</param>
/// <param name="CreatedAt">When the data directory first got an identity.</param>
/// <param name="PreviousNodeId">Set when this start renamed the node (an explicit, different node id).</param>
/// <param name="Created">True when this start generated or first stored the identity.</param>
public sealed record NodeIdentity(string NodeId, DateTimeOffset CreatedAt, string? PreviousNodeId, bool Created);
