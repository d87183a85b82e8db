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
    // Property names and constant values escaped once, not per change.
    private static readonly JsonEncodedText Before = JsonEncodedText.Encode("before");
    private static readonly JsonEncodedText After = JsonEncodedText.Encode("after");
    private static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText Op = JsonEncodedText.Encode("op");
    private static readonly JsonEncodedText TsMs = JsonEncodedText.Encode("ts_ms");
    private static readonly JsonEncodedText Transaction = JsonEncodedText.Encode("transaction");
    private static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText ConnectorVersion = JsonEncodedText.Encode("edgestream");
    private static readonly JsonEncodedText Connector = JsonEncodedText.Encode("connector");
    private static readonly JsonEncodedText Postgresql = JsonEncodedText.Encode("postgresql");
    private static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText Snapshot = JsonEncodedText.Encode("snapshot");
    private static readonly JsonEncodedText True = JsonEncodedText.Encode("true");
    private static readonly JsonEncodedText False = JsonEncodedText.Encode("false");
    private static readonly JsonEncodedText Db = JsonEncodedText.Encode("db");
    private static readonly JsonEncodedText Schema = JsonEncodedText.Encode("schema");
    private static readonly JsonEncodedText Table = JsonEncodedText.Encode("table");
    private static readonly JsonEncodedText TxId = JsonEncodedText.Encode("txId");
    private static readonly JsonEncodedText Lsn = JsonEncodedText.Encode("lsn");
    private static readonly JsonEncodedText Xmin = JsonEncodedText.Encode("xmin");

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
            w.WritePropertyName(columns.JsonNames[i]);
            WriteValue(w, columns, row, i);
        }
        w.WriteEndObject();
        return Finish(w);
    }

    /// <summary>The value JSON of a change. <paramref name="before"/> is the old image pgoutput sent (REPLICA IDENTITY FULL: every column; a key change: the key only).</summary>
    public static byte[] Value(CdcOp op, CdcColumns columns, CdcRow? before, CdcRow? after, in CdcSourceInfo source, long nowMillis)
    {
        var w = Writer();
        w.WriteStartObject();
        w.WritePropertyName(Before);
        WriteRow(w, columns, before);
        w.WritePropertyName(After);
        WriteRow(w, columns, after);
        WriteSource(w, columns, source);
        w.WriteString(Op, OpText(op));
        w.WriteNumber(TsMs, nowMillis);
        w.WriteNull(Transaction);
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
        for (var i = 0; i < columns.Count && i < row.Count; i++)
        {
            w.WritePropertyName(columns.JsonNames[i]);
            if (row.IsUnchangedToast(i)) w.WriteStringValue(PgValueJson.UnchangedToast);
            else WriteValue(w, columns, row, i);
        }
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, CdcColumns columns, CdcRow row, int i)
    {
        if (row.IsNull(i)) w.WriteNullValue();
        else PgValueJson.Write(w, columns.Types[i], columns.Typmods[i], row.Utf8(i));
    }

    private static void WriteSource(Utf8JsonWriter w, CdcColumns columns, in CdcSourceInfo source)
    {
        w.WriteStartObject(Source);
        w.WriteString(Version, ConnectorVersion);
        w.WriteString(Connector, Postgresql);
        w.WriteString(Name, source.Name);
        w.WriteNumber(TsMs, source.CommitMillis);
        w.WriteString(Snapshot, source.Snapshot ? True : False);
        w.WriteString(Db, source.Database);
        w.WriteString(Schema, columns.JsonSchema);
        w.WriteString(Table, columns.JsonTable);
        w.WriteNumber(TxId, source.TxId);
        w.WriteNumber(Lsn, source.Lsn);
        w.WriteNull(Xmin);
        w.WriteEndObject();
    }
}
