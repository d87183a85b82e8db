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

    // One buffer and writer per thread, reused: the capture encodes every change, and Key/Value are synchronous.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static Utf8JsonWriter Writer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        return writer;
    }

    private static byte[] Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        return t_buffer!.WrittenSpan.ToArray();
    }

    /// <summary>The key JSON, or null when the table has no primary key (as Debezium, which then writes a null key).</summary>
    public static byte[]? Key(CdcColumns columns, CdcRow row)
    {
        if (!columns.HasKey) return null;
        var w = Writer();
        w.WriteStartObject();
        for (var i = 0; i < columns.Count; i++)
        {
            if (!columns.IsKey[i]) continue;
            w.WritePropertyName(columns.Names[i]);
            PgValueJson.Write(w, columns.Types[i], columns.Typmods[i], row.Values[i]);
        }
        w.WriteEndObject();
        return Finish(w);
    }

    /// <summary>The value JSON of a change. <paramref name="before"/> is the old image pgoutput sent (REPLICA IDENTITY FULL: every column; a key change: the key only).</summary>
    public static byte[] Value(CdcOp op, CdcColumns columns, CdcRow? before, CdcRow? after, in CdcSourceInfo source, long nowMillis)
    {
        var w = Writer();
        w.WriteStartObject();
        w.WritePropertyName("before");
        WriteRow(w, columns, before);
        w.WritePropertyName("after");
        WriteRow(w, columns, after);
        WriteSource(w, columns, source);
        w.WriteString("op", OpText(op));
        w.WriteNumber("ts_ms", nowMillis);
        w.WriteNull("transaction");
        w.WriteEndObject();
        return Finish(w);
    }

    private static string OpText(CdcOp op) => op switch
    {
        CdcOp.Create => "c",
        CdcOp.Update => "u",
        CdcOp.Delete => "d",
        CdcOp.Read => "r",
        _ => "t",
    };

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
