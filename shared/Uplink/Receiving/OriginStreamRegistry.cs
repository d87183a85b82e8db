using System.Globalization;
using EdgeStream.Metadata;

namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// Gives every origin stream (origin node, origin topic, origin partition) a stable id, kept in
/// meta.db collection <see cref="CollectionName"/> (key "node/topic/partition", number n). The id
/// is <see cref="FirstStreamId"/> + n: it is the ProducerId of every batch the receiver writes for
/// that stream, so de-duplication state can be rebuilt from the log's batch headers alone. Ids sit
/// at 2^62 and above, far from the ids Kafka producers are given. The entry is written before the
/// stream's first append, so a batch never names an id meta.db does not know.
/// </summary>
public sealed class OriginStreamRegistry
{
    /// <summary>The meta.db collection (LiteDB collection names allow letters, digits and '_' only).</summary>
    public const string CollectionName = "uplink_origins";

    /// <summary>The first stream id; every batch whose ProducerId is at least this was written by the uplink receiver.</summary>
    public const long FirstStreamId = 1L << 62;

    private readonly MetadataStore _metadata;
    private readonly Lock _lock = new();
    private Dictionary<string, long>? _ids;
    private long _next;

    public OriginStreamRegistry(MetadataStore metadata) => _metadata = metadata;

    public static bool IsStreamId(long producerId) => producerId >= FirstStreamId;

    /// <summary>The id of the stream, allocated and persisted on first use.</summary>
    public long GetOrAllocate(string originNode, string originTopic, int originPartition)
    {
        var key = Key(originNode, originTopic, originPartition);
        lock (_lock)
        {
            var ids = _ids ??= Load();
            if (ids.TryGetValue(key, out var id)) return id;
            var n = _next;
            // Persisted before anyone can append a batch carrying the id.
            _metadata.Collection(CollectionName).Put(key, n);
            _next = n + 1;
            id = FirstStreamId + n;
            ids[key] = id;
            return id;
        }
    }

    /// <summary>How many origin streams this node has ever received.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return (_ids ??= Load()).Count;
        }
    }

    private Dictionary<string, long> Load()
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in _metadata.Collection(CollectionName).List())
        {
            ids[entry.Key] = FirstStreamId + entry.Number;
            _next = Math.Max(_next, entry.Number + 1);
        }
        return ids;
    }

    // Node ids and topic names cannot contain '/', so the key is unambiguous.
    private static string Key(string node, string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{node}/{topic}/{partition}");
}
