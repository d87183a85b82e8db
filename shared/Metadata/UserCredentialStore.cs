using LiteDB;

namespace EdgeStream.Metadata;

/// <summary>
/// One SCRAM credential of a user (RFC 5802 §3): never the password, only what the server needs to
/// check a proof — the salt and iteration count the client derives its key with, StoredKey =
/// H(ClientKey) and ServerKey. <paramref name="Mechanism"/> is the SASL name, e.g. <c>SCRAM-SHA-256</c>.
/// </summary>
public sealed record StoredCredential(string Mechanism, byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey);

/// <summary>A user and the mechanisms it has credentials for (what may be listed: no key material).</summary>
public sealed record StoredUser(string Name, IReadOnlyList<string> Mechanisms);

/// <summary>
/// The users of a node, in <c>meta.db</c> (collection <c>users</c>): one document per user name, one
/// entry per mechanism in its <c>credentials</c> array. Shared by the Kafka SASL listener, MQTT and <c>edgestream users</c>.
/// </summary>
public sealed class UserCredentialStore
{
    private const string CollectionName = "users";
    private readonly MetadataStore _store;

    public UserCredentialStore(MetadataStore store) => _store = store;

    /// <summary>The user's credential for <paramref name="mechanism"/>, or null (no such user, or none for that mechanism).</summary>
    public StoredCredential? Get(string user, string mechanism)
    {
        foreach (var c in GetAll(user))
            if (c.Mechanism == mechanism) return c;
        return null;
    }

    /// <summary>Every credential of the user (any mechanism), or an empty list.</summary>
    public IReadOnlyList<StoredCredential> GetAll(string user) => _store.WithCollection(CollectionName, col =>
    {
        var list = new List<StoredCredential>();
        var doc = col.FindById(user);
        if (doc is not null) foreach (var c in Credentials(doc)) list.Add(ToCredential(c));
        return list;
    });

    /// <summary>Creates the user or replaces its credential for the credential's mechanism (others are kept).</summary>
    public void Upsert(string user, StoredCredential credential)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        _store.WithCollection(CollectionName, col =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var doc = col.FindById(user) ?? new BsonDocument { ["_id"] = user, ["createdAt"] = now };
            var credentials = new BsonArray();
            foreach (var c in Credentials(doc))
                if (c["mechanism"].AsString != credential.Mechanism) credentials.Add(c);
            credentials.Add(new BsonDocument
            {
                ["mechanism"] = credential.Mechanism,
                ["salt"] = credential.Salt,
                ["iterations"] = credential.Iterations,
                ["storedKey"] = credential.StoredKey,
                ["serverKey"] = credential.ServerKey,
            });
            doc["credentials"] = credentials;
            doc["updatedAt"] = now;
            return col.Upsert(doc);
        });
    }

    /// <summary>
    /// Deletes the user's credential for <paramref name="mechanism"/>, or all of them (the user) when
    /// it is null; a user left with no credential is removed. False when there was nothing to delete.
    /// </summary>
    public bool Delete(string user, string? mechanism = null) => _store.WithCollection(CollectionName, col =>
    {
        if (mechanism is null) return col.Delete(user);
        var doc = col.FindById(user);
        if (doc is null) return false;
        var kept = new BsonArray();
        foreach (var c in Credentials(doc))
            if (c["mechanism"].AsString != mechanism) kept.Add(c);
        if (kept.Count == Credentials(doc).Count) return false;
        if (kept.Count == 0) return col.Delete(user);
        doc["credentials"] = kept;
        doc["updatedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return col.Update(doc);
    });

    /// <summary>Every user with its mechanisms, ordered by name.</summary>
    public IReadOnlyList<StoredUser> List() => _store.WithCollection(CollectionName, col =>
    {
        var users = new List<StoredUser>();
        foreach (var doc in col.FindAll())
        {
            var mechanisms = new List<string>();
            foreach (var c in Credentials(doc)) mechanisms.Add(c["mechanism"].AsString);
            mechanisms.Sort(StringComparer.Ordinal);
            users.Add(new StoredUser(doc["_id"].AsString, mechanisms));
        }
        users.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return users;
    });

    private static List<BsonDocument> Credentials(BsonDocument user)
    {
        var list = new List<BsonDocument>();
        if (user["credentials"].IsArray)
            foreach (var c in user["credentials"].AsArray) if (c.IsDocument) list.Add(c.AsDocument);
        return list;
    }

    private static StoredCredential ToCredential(BsonDocument c) =>
        new(c["mechanism"].AsString, c["salt"].AsBinary, c["iterations"].AsInt32, c["storedKey"].AsBinary, c["serverKey"].AsBinary);
}
