using EdgeStream.Cdc.Mapping;
using EdgeStream.Cdc.Records;
using Npgsql;
using Npgsql.Replication.PgOutput.Messages;

namespace EdgeStream.Cdc.Capture;

/// <summary>
/// A source's view of the database catalog: the record shape of each captured table, from pgoutput's
/// relation messages while streaming and from <c>pg_attribute</c> for a snapshot; the key is the
/// primary key (Debezium's), else the replica identity pgoutput flags.
/// </summary>
internal sealed class CdcCatalog
{
    private readonly NpgsqlDataSource _database;
    private readonly PgTypeResolver _types;
    private readonly string _topicPrefix;
    private readonly Dictionary<uint, CdcColumns> _relations = [];

    public CdcCatalog(NpgsqlDataSource database, string topicPrefix)
    {
        _database = database;
        _types = new PgTypeResolver(database);
        _topicPrefix = topicPrefix;
    }

    public string TopicOf(string schema, string table) => $"{_topicPrefix}{schema}.{table}";

    /// <summary>The shape of a relation as its latest relation message describes it (an ALTER TABLE sends a new one before the next change).</summary>
    public async ValueTask<CdcColumns> OnRelationAsync(RelationMessage relation, CancellationToken cancellationToken)
    {
        var primaryKey = await PrimaryKeyAsync(relation.RelationId, cancellationToken).ConfigureAwait(false);
        var count = relation.Columns.Count;
        var names = new string[count];
        var types = new PgTypeInfo[count];
        var typmods = new int[count];
        var isKey = new bool[count];
        for (var i = 0; i < count; i++)
        {
            var column = relation.Columns[i];
            names[i] = column.ColumnName;
            types[i] = await _types.ResolveAsync(column.DataTypeId, cancellationToken).ConfigureAwait(false);
            typmods[i] = column.TypeModifier;
            isKey[i] = primaryKey.Count > 0
                ? primaryKey.Contains(column.ColumnName)
                : (column.Flags & RelationMessage.Column.ColumnFlags.PartOfKey) != 0 && relation.ReplicaIdentity != RelationMessage.ReplicaIdentitySetting.AllColumns;
        }
        var columns = new CdcColumns(relation.Namespace, relation.RelationName, TopicOf(relation.Namespace, relation.RelationName), names, types, typmods, isKey);
        _relations[relation.RelationId] = columns;
        return columns;
    }

    public CdcColumns Columns(RelationMessage relation) =>
        _relations.TryGetValue(relation.RelationId, out var columns) ? columns
        : throw new CdcException($"change for relation {relation.Namespace}.{relation.RelationName} before its relation message");

    /// <summary>The table's columns now (for a snapshot chunk), in attribute order, dropped ones left out.</summary>
    public async ValueTask<CdcColumns> TableAsync(string qualified, CancellationToken cancellationToken)
    {
        var dot = qualified.IndexOf('.');
        var (schema, table) = (qualified[..dot], qualified[(dot + 1)..]);
        await using var command = _database.CreateCommand("""
            SELECT a.attname::text, a.atttypid::int8, a.atttypmod,
                   coalesce(a.attnum = ANY(i.indkey), false), format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = schema });
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        var rows = new List<(string Name, uint Oid, int Typmod, bool Key, string SqlType)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                rows.Add((reader.GetString(0), (uint)reader.GetInt64(1), reader.GetInt32(2), reader.GetBoolean(3), reader.GetString(4)));
        }
        if (rows.Count == 0) throw new CdcSetupException($"table {qualified} does not exist: create it, or remove it from the source's tables");
        var types = new PgTypeInfo[rows.Count];
        for (var i = 0; i < rows.Count; i++) types[i] = await _types.ResolveAsync(rows[i].Oid, cancellationToken).ConfigureAwait(false);
        return new CdcColumns(schema, table, TopicOf(schema, table),
            rows.ConvertAll(r => r.Name).ToArray(), types, rows.ConvertAll(r => r.Typmod).ToArray(), rows.ConvertAll(r => r.Key).ToArray())
        {
            SqlTypes = rows.ConvertAll(r => r.SqlType).ToArray(),
        };
    }

    private async ValueTask<HashSet<string>> PrimaryKeyAsync(uint relationId, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand("""
            SELECT a.attname::text FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::int8::oid AND i.indisprimary
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (long)relationId });
        var key = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) key.Add(reader.GetString(0));
        return key;
    }
}
