using LiteDB;

namespace EdgeStream.Metadata;

/// <summary>One entry of a keyed collection: a number (an offset, a cursor) and optional text (e.g. commit metadata).</summary>
public readonly record struct MetadataEntry(string Key, long Number, string? Text, DateTimeOffset UpdatedAt);

/// <summary>A keyed collection inside a <see cref="MetadataStore"/>. Keys are case-sensitive strings.</summary>
public sealed class MetadataCollection
{
    private readonly MetadataStore _store;
    private readonly string _collection;

    internal MetadataCollection(MetadataStore store, string collection)
    {
        _store = store;
        _collection = collection;
    }

    /// <summary>Creates or replaces the entry for <paramref name="key"/>.</summary>
    public void Put(string key, long number, string? text = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var doc = new BsonDocument
        {
            ["_id"] = key,
            ["number"] = number,
            ["text"] = text is null ? BsonValue.Null : new BsonValue(text),
            ["updatedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
        _store.WithCollection(_collection, c => c.Upsert(doc));
    }

    /// <summary>
    /// Creates or replaces several entries in one LiteDB transaction: after a crash either all of
    /// them are in the store or none is (consumer offsets are committed per request this way).
    /// </summary>
    public void PutMany(IReadOnlyList<(string Key, long Number, string? Text)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var docs = new List<BsonDocument>(entries.Count);
        foreach (var (key, number, text) in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            docs.Add(new BsonDocument
            {
                ["_id"] = key,
                ["number"] = number,
                ["text"] = text is null ? BsonValue.Null : new BsonValue(text),
                ["updatedAt"] = now,
            });
        }
        // Upsert of an enumerable runs in one auto-transaction of the engine.
        _store.WithCollection(_collection, c => c.Upsert(docs));
    }

    /// <summary>Deletes the entries of <paramref name="keys"/> in one LiteDB transaction; returns how many existed.</summary>
    public int DeleteMany(IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return 0;
        var values = new BsonArray();
        foreach (var k in keys) values.Add(k);
        return _store.WithCollection(_collection, c => c.DeleteMany(Query.In("_id", values)));
    }

    public bool TryGet(string key, out MetadataEntry entry)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var doc = _store.WithCollection(_collection, c => c.FindById(key));
        entry = doc is null ? default : ToEntry(doc);
        return doc is not null;
    }

    public bool Delete(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return _store.WithCollection(_collection, c => c.Delete(key));
    }

    /// <summary>Entries whose key starts with <paramref name="prefix"/> (all when empty), ordered by key.</summary>
    public IReadOnlyList<MetadataEntry> List(string prefix = "")
    {
        return _store.WithCollection(_collection, c =>
        {
            var list = new List<MetadataEntry>();
            var docs = prefix.Length == 0 ? c.FindAll() : c.Find(Query.StartsWith("_id", prefix));
            foreach (var doc in docs) list.Add(ToEntry(doc));
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            return (IReadOnlyList<MetadataEntry>)list;
        });
    }

    private static MetadataEntry ToEntry(BsonDocument doc) =>
        new(doc["_id"].AsString, doc["number"].AsInt64, doc["text"].IsNull ? null : doc["text"].AsString,
            MetadataStore.FromMs(doc["updatedAt"].AsInt64));
}
