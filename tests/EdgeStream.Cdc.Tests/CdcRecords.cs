using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

/// <summary>A CDC record as read back from a node's log.</summary>
public sealed record CdcRecord(long Offset, string? Key, string? Value, IReadOnlyDictionary<string, string> Headers)
{
    public JsonElement Envelope => JsonDocument.Parse(Value!).RootElement;
    public string? Op => Value is null ? null : Envelope.GetProperty("op").GetString();
    public JsonElement After => Envelope.GetProperty("after");
    public JsonElement Before => Envelope.GetProperty("before");
    public ulong Lsn => ulong.Parse(Headers["cdc.lsn"]);
    public int Seq => int.Parse(Headers["cdc.seq"]);
    public long Id => JsonDocument.Parse(Key!).RootElement.GetProperty("id").GetInt64();

    public static List<CdcRecord> ReadAll(string bootstrap, string topic)
    {
        var result = new List<CdcRecord>();
        foreach (var r in LogReader.ReadToEnd(bootstrap, topic))
        {
            var headers = new Dictionary<string, string>();
            if (r.Message.Headers is { } hs) foreach (var h in hs) headers[h.Key] = Encoding.UTF8.GetString(h.GetValueBytes());
            result.Add(new CdcRecord(r.Offset.Value, r.Message.Key is null ? null : Encoding.UTF8.GetString(r.Message.Key),
                r.Message.Value is null ? null : Encoding.UTF8.GetString(r.Message.Value), headers));
        }
        return result;
    }

    public static long CountOf(string bootstrap, string topic)
    {
        try { return LogReader.Count(bootstrap, topic); }
        catch (KafkaException) { return 0; }
    }
}
