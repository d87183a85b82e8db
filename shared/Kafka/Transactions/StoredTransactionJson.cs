using System.Text;
using System.Text.Json;

namespace EdgeStream.Kafka.Transactions;

/// <summary>
/// The JSON text of a <see cref="StoredTransaction"/> in the metadata store, written and read by hand with
/// <see cref="Utf8JsonWriter"/>/<see cref="Utf8JsonReader"/>. The format is the one System.Text.Json's source
/// generator wrote before (PascalCase names in declaration order, <c>null</c> for a missing metadata string), so
/// existing data directories stay readable; the generated serializer and the constructor-binding converters it
/// needed were ~0.1 MB of the NativeAOT binary for one small record (docs/BENCHMARKS.md "footprint").
/// </summary>
internal static class StoredTransactionJson
{
    public static string Write(StoredTransaction t)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("Epoch", t.Epoch);
            w.WriteNumber("TimeoutMs", t.TimeoutMs);
            w.WriteString("State", t.State);
            w.WriteNumber("StartTimeMs", t.StartTimeMs);
            WriteStrings(w, "Partitions", t.Partitions);
            WriteStrings(w, "Groups", t.Groups);
            w.WriteStartArray("Offsets");
            foreach (var o in t.Offsets)
            {
                w.WriteStartObject();
                w.WriteString("Group", o.Group);
                w.WriteString("Topic", o.Topic);
                w.WriteNumber("Partition", o.Partition);
                w.WriteNumber("Offset", o.Offset);
                w.WriteNumber("LeaderEpoch", o.LeaderEpoch);
                if (o.Metadata is null) w.WriteNull("Metadata");
                else w.WriteString("Metadata", o.Metadata);
                w.WriteNumber("CommitTimestampMs", o.CommitTimestampMs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Null when <paramref name="json"/> is not a stored transaction (damaged, or of another shape): the caller skips it.</summary>
    public static StoredTransaction? TryRead(string json)
    {
        try
        {
            var r = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            return ReadTransaction(ref r);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static StoredTransaction? ReadTransaction(ref Utf8JsonReader r)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
        short epoch = 0;
        int timeoutMs = 0;
        string? state = null;
        long startTimeMs = 0;
        List<string> partitions = [], groups = [];
        List<StoredTxnOffset> offsets = [];
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.GetString();
            r.Read();
            switch (name)
            {
                case "Epoch": epoch = r.GetInt16(); break;
                case "TimeoutMs": timeoutMs = r.GetInt32(); break;
                case "State": state = r.GetString(); break;
                case "StartTimeMs": startTimeMs = r.GetInt64(); break;
                case "Partitions": partitions = ReadStrings(ref r); break;
                case "Groups": groups = ReadStrings(ref r); break;
                case "Offsets":
                    Expect(ref r, JsonTokenType.StartArray);
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) offsets.Add(ReadOffset(ref r));
                    break;
                default: r.Skip(); break;
            }
        }
        return state is null ? null : new StoredTransaction(epoch, timeoutMs, state, startTimeMs, partitions, groups, offsets);
    }

    private static StoredTxnOffset ReadOffset(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject);
        string group = "", topic = "";
        string? metadata = null;
        int partition = 0, leaderEpoch = 0;
        long offset = 0, commitTimestampMs = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.GetString();
            r.Read();
            switch (name)
            {
                case "Group": group = r.GetString() ?? ""; break;
                case "Topic": topic = r.GetString() ?? ""; break;
                case "Partition": partition = r.GetInt32(); break;
                case "Offset": offset = r.GetInt64(); break;
                case "LeaderEpoch": leaderEpoch = r.GetInt32(); break;
                case "Metadata": metadata = r.GetString(); break;
                case "CommitTimestampMs": commitTimestampMs = r.GetInt64(); break;
                default: r.Skip(); break;
            }
        }
        return new StoredTxnOffset(group, topic, partition, offset, leaderEpoch, metadata, commitTimestampMs);
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, List<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static List<string> ReadStrings(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartArray);
        var values = new List<string>();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray) values.Add(r.GetString() ?? throw new JsonException("null in a string list"));
        return values;
    }

    private static void Expect(ref Utf8JsonReader r, JsonTokenType type)
    {
        if (r.TokenType != type) throw new JsonException($"expected {type}, found {r.TokenType}");
    }
}
