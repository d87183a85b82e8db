using System.Text.Json;
using EdgeStream.Cdc.Mapping;

namespace EdgeStream.Cdc.Records;

/// <summary>
/// A captured table's shape as the records are written: its columns in order (from the latest
/// pgoutput relation message, so ALTER TABLE ADD/DROP COLUMN take effect from the next change, or
/// from the catalog for a snapshot) and which of them form the record key (the primary key).
/// </summary>
public sealed class CdcColumns
{
    public CdcColumns(string schema, string table, string topic, string[] names, PgTypeInfo[] types, int[] typmods, bool[] isKey)
    {
        Schema = schema;
        Table = table;
        Topic = topic;
        Names = names;
        Types = types;
        Typmods = typmods;
        IsKey = isKey;
        HasKey = Array.IndexOf(isKey, true) >= 0;
        JsonNames = Array.ConvertAll(names, name => JsonEncodedText.Encode(name));
        JsonSchema = JsonEncodedText.Encode(schema);
        JsonTable = JsonEncodedText.Encode(table);
    }

    // Escaped for JSON once per shape rather than in every change's envelope.
    public JsonEncodedText[] JsonNames { get; }
    public JsonEncodedText JsonSchema { get; }
    public JsonEncodedText JsonTable { get; }

    public string Schema { get; }
    public string Table { get; }
    /// <summary>The log topic this table's changes go to.</summary>
    public string Topic { get; }
    public string[] Names { get; }
    public PgTypeInfo[] Types { get; }
    public int[] Typmods { get; }
    public bool[] IsKey { get; }
    public bool HasKey { get; }
    public int Count => Names.Length;
    /// <summary>SQL type names (format_type) of a table read from the catalog, for the snapshot's key comparisons; null for a relation message's shape.</summary>
    public string[]? SqlTypes { get; init; }
}
