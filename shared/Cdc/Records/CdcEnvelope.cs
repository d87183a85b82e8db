using System.Buffers;
using System.Text.Json;
using EdgeStream.Cdc.Mapping;

namespace EdgeStream.Cdc.Records;

/// <summary>
/// The record key and value of one change, in the layout of Debezium's PostgreSQL connector with
/// the JSON converter's schemas off: key <c>{"id":1}</c> (the primary key), value
/// <c>{"before","after","source","op","ts_ms","transaction"}</c>. Written with <see cref="Utf8JsonWriter"/>
/// (no reflection: the agent is NativeAOT-compiled).
/// </summary>
public static class CdcEnvelope
{
    private const string ConnectorVersion = "edgestream";

    /// <summary>The key JSON, or null when the table has no primary key (as Debezium, which then writes a null key).</summary>
    public static byte[]? Key(CdcColumns columns, CdcRow row)
    {
        if (!columns.HasKey) return null;
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            for (var i = 0; i < columns.Count; i++)
            {
                if (!columns.IsKey[i]) continue;
                w.WritePropertyName(columns.Names[i]);
                PgValueJson.Write(w, columns.Types[i], columns.Typmods[i], row.Values[i]);
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The value JSON of a change. <paramref name="before"/> is the old image pgoutput sent (REPLICA IDENTITY FULL: every column; a key change: the key only).</summary>
    public static byte[] Value(CdcOp op, CdcColumns columns, CdcRow? before, CdcRow? after, in CdcSourceInfo source, long nowMillis)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("before");
            WriteRow(w, columns, before);
            w.WritePropertyName("after");
            WriteRow(w, columns, after);
            WriteSource(w, columns, source);
            w.WriteString("op", ((char)op).ToString());
            w.WriteNumber("ts_ms", nowMillis);
            w.WriteNull("transaction");
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteRow(Utf8JsonWriter w, CdcColumns columns, CdcRow? row)
    {
        if (row is null) { w.WriteNullValue(); return; }
        w.WriteStartObject();
        for (var i = 0; i < columns.Count && i < row.Values.Length; i++)
        {
            w.WritePropertyName(columns.Names[i]);
            if (row.UnchangedToast[i]) w.WriteStringValue(PgValueJson.UnchangedToast);
            else PgValueJson.Write(w, columns.Types[i], columns.Typmods[i], row.Values[i]);
        }
        w.WriteEndObject();
    }

    private static void WriteSource(Utf8JsonWriter w, CdcColumns columns, in CdcSourceInfo source)
    {
        w.WriteStartObject("source");
        w.WriteString("version", ConnectorVersion);
        w.WriteString("connector", "postgresql");
        w.WriteString("name", source.Name);
        w.WriteNumber("ts_ms", source.CommitMillis);
        w.WriteString("snapshot", source.Snapshot ? "true" : "false");
        w.WriteString("db", source.Database);
        w.WriteString("schema", columns.Schema);
        w.WriteString("table", columns.Table);
        w.WriteNumber("txId", source.TxId);
        w.WriteNumber("lsn", source.Lsn);
        w.WriteNull("xmin");
        w.WriteEndObject();
    }
}
