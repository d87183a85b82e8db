using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeStream.Metadata;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>One subscription of a persistent session, as the client asked for it.</summary>
public sealed record StoredSubscription(string Filter, MqttQualityOfServiceLevel Qos, bool NoLocal, bool RetainAsPublished, MqttRetainHandling RetainHandling);

/// <summary>
/// What survives a restart of a persistent MQTT session: its subscriptions and, per log partition,
/// the offset from which messages for it may still be undelivered (the replay cursor). The
/// undelivered messages themselves are not copied: they are in the log already.
/// </summary>
public sealed class StoredSession
{
    public required string ClientId { get; init; }
    /// <summary>MQTT 5 session expiry interval in seconds; uint.MaxValue = never (and MQTT 3.1.1 sessions).</summary>
    public uint ExpirySeconds { get; set; } = uint.MaxValue;
    /// <summary>When the client disconnected (Unix ms), 0 while it is connected.</summary>
    public long DisconnectedAtMs { get; set; }
    public List<StoredSubscription> Subscriptions { get; } = [];
    /// <summary>Key "topic/partition" → first offset that may hold a message not yet acknowledged by this client.</summary>
    public Dictionary<string, long> Cursors { get; } = new(StringComparer.Ordinal);

    public static string CursorKey(string topic, int partition) => topic + "/" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public bool IsExpired(long nowMs) =>
        ExpirySeconds != uint.MaxValue && DisconnectedAtMs > 0 && nowMs - DisconnectedAtMs > ExpirySeconds * 1000L;
}

/// <summary>Persistent sessions in meta.db (collection <c>mqtt_sessions</c>, key = client id, value = JSON).</summary>
public sealed class MqttSessionStore
{
    public const string CollectionName = "mqtt_sessions";

    private readonly MetadataCollection _collection;

    public MqttSessionStore(MetadataStore metadata) => _collection = metadata.Collection(CollectionName);

    public List<StoredSession> LoadAll()
    {
        var sessions = new List<StoredSession>();
        foreach (var entry in _collection.List())
        {
            if (entry.Text is { } json && TryParse(entry.Key, json, out var session)) sessions.Add(session);
        }
        return sessions;
    }

    public void Save(StoredSession session) => _collection.Put(session.ClientId, 0, ToJson(session));

    public void SaveMany(IReadOnlyList<StoredSession> sessions)
    {
        if (sessions.Count == 0) return;
        var entries = new List<(string, long, string?)>(sessions.Count);
        foreach (var s in sessions) entries.Add((s.ClientId, 0, ToJson(s)));
        _collection.PutMany(entries);
    }

    public void Delete(string clientId) => _collection.Delete(clientId);

    internal static string ToJson(StoredSession s)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("expiry", s.ExpirySeconds);
            w.WriteNumber("disconnectedAt", s.DisconnectedAtMs);
            w.WriteStartArray("subscriptions");
            foreach (var sub in s.Subscriptions)
            {
                w.WriteStartObject();
                w.WriteString("filter", sub.Filter);
                w.WriteNumber("qos", (int)sub.Qos);
                w.WriteBoolean("noLocal", sub.NoLocal);
                w.WriteBoolean("retainAsPublished", sub.RetainAsPublished);
                w.WriteNumber("retainHandling", (int)sub.RetainHandling);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("cursors");
            foreach (var (key, offset) in s.Cursors) w.WriteNumber(key, offset);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static bool TryParse(string clientId, string json, out StoredSession session)
    {
        session = new StoredSession { ClientId = clientId };
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            session.ExpirySeconds = root.GetProperty("expiry").GetUInt32();
            session.DisconnectedAtMs = root.GetProperty("disconnectedAt").GetInt64();
            foreach (var sub in root.GetProperty("subscriptions").EnumerateArray())
            {
                session.Subscriptions.Add(new StoredSubscription(
                    sub.GetProperty("filter").GetString() ?? "",
                    (MqttQualityOfServiceLevel)sub.GetProperty("qos").GetInt32(),
                    sub.GetProperty("noLocal").GetBoolean(),
                    sub.GetProperty("retainAsPublished").GetBoolean(),
                    (MqttRetainHandling)sub.GetProperty("retainHandling").GetInt32()));
            }
            foreach (var cursor in root.GetProperty("cursors").EnumerateObject())
                session.Cursors[cursor.Name] = cursor.Value.GetInt64();
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }
}
