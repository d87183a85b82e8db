using LiteDB;

namespace EdgeStream.Metadata;

/// <summary>
/// One ACL binding as stored: Kafka's wire codes for the resource type, pattern type, operation and
/// permission (so the store needs no knowledge of what they mean), the resource name, principal and host.
/// </summary>
public sealed record StoredAcl(sbyte ResourceType, string ResourceName, sbyte PatternType, string Principal, string Host, sbyte Operation, sbyte Permission);

/// <summary>
/// The ACLs of a node, in <c>meta.db</c> (collection <c>acls</c>): one document per binding, keyed by
/// all of its fields, so adding a binding twice keeps one. Shared by the Kafka listener, MQTT and <c>edgestream acls</c>.
/// </summary>
public sealed class AclStore
{
    private const string CollectionName = "acls";
    private readonly MetadataStore _store;

    public AclStore(MetadataStore store) => _store = store;

    /// <summary>Adds the bindings in one transaction; those already present are kept as they are.</summary>
    public void Add(IReadOnlyList<StoredAcl> acls)
    {
        ArgumentNullException.ThrowIfNull(acls);
        if (acls.Count == 0) return;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var docs = new List<BsonDocument>(acls.Count);
        foreach (var acl in acls) docs.Add(ToDocument(acl, now));
        _store.WithCollection(CollectionName, col => col.Upsert(docs));
    }

    /// <summary>Removes the bindings (those absent are ignored); returns how many existed.</summary>
    public int Remove(IReadOnlyList<StoredAcl> acls)
    {
        ArgumentNullException.ThrowIfNull(acls);
        if (acls.Count == 0) return 0;
        var keys = new BsonArray();
        foreach (var acl in acls) keys.Add(Key(acl));
        return _store.WithCollection(CollectionName, col => col.DeleteMany(Query.In("_id", keys)));
    }

    /// <summary>Every binding, in key order.</summary>
    public IReadOnlyList<StoredAcl> List() => _store.WithCollection(CollectionName, col =>
    {
        var list = new List<(string Key, StoredAcl Acl)>();
        foreach (var doc in col.FindAll()) list.Add((doc["_id"].AsString, FromDocument(doc)));
        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var acls = new List<StoredAcl>(list.Count);
        foreach (var (_, acl) in list) acls.Add(acl);
        return (IReadOnlyList<StoredAcl>)acls;
    });

    // Names and principals may hold any character but NUL, which Kafka's names and our user names never do.
    private static string Key(StoredAcl a) =>
        string.Join('\0', a.ResourceType, a.ResourceName, a.PatternType, a.Principal, a.Host, a.Operation, a.Permission);

    private static BsonDocument ToDocument(StoredAcl a, long now) => new()
    {
        ["_id"] = Key(a),
        ["resourceType"] = (int)a.ResourceType,
        ["resourceName"] = a.ResourceName,
        ["patternType"] = (int)a.PatternType,
        ["principal"] = a.Principal,
        ["host"] = a.Host,
        ["operation"] = (int)a.Operation,
        ["permission"] = (int)a.Permission,
        ["createdAt"] = now,
    };

    private static StoredAcl FromDocument(BsonDocument d) => new(
        (sbyte)d["resourceType"].AsInt32, d["resourceName"].AsString, (sbyte)d["patternType"].AsInt32,
        d["principal"].AsString, d["host"].AsString, (sbyte)d["operation"].AsInt32, (sbyte)d["permission"].AsInt32);
}
