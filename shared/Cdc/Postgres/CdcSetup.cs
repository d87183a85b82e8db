using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;

namespace EdgeStream.Cdc.Postgres;

/// <summary>
/// Makes the database ready for a source: wal_level, the tables, the publication (created or
/// extended when missing; said in the log) and the slot. The publication comes first: pgoutput
/// looks it up as of each change it decodes, so it must be older than the slot's start.
/// </summary>
internal static class CdcSetup
{
    public readonly record struct Result(IReadOnlyList<string> Tables, bool SlotCreated);

    public static async Task<Result> PrepareAsync(CdcSourceOptions options, NpgsqlDataSource database, LogicalReplicationConnection replication, ILogger logger, CancellationToken ct)
    {
        await using (var show = database.CreateCommand("SHOW wal_level"))
        {
            var level = (string?)await show.ExecuteScalarAsync(ct).ConfigureAwait(false);
            if (level != "logical")
                throw new CdcSetupException($"wal_level is '{level}': set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL");
        }
        foreach (var table in options.Tables)
        {
            if (!await ExistsAsync(database, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p')", ct, Split(table)).ConfigureAwait(false))
                throw new CdcSetupException($"table {table} does not exist in database {options.Database}: create it, or remove it from the source's tables=");
        }

        var publicationExists = await ExistsAsync(database, "SELECT 1 FROM pg_publication WHERE pubname = $1", ct, options.Publication).ConfigureAwait(false);
        if (!publicationExists)
        {
            if (options.PublicationGiven && options.Tables.Count == 0)
                throw new CdcSetupException($"publication {options.Publication} does not exist: create it (CREATE PUBLICATION {options.Publication} FOR TABLE ...) or give tables=");
            await ExecuteAsync(database, $"CREATE PUBLICATION {Quote(options.Publication)} FOR TABLE {string.Join(", ", options.Tables.Select(QuoteTable))}", ct).ConfigureAwait(false);
            CdcLog.PublicationCreated(logger, options.Name, options.Publication, string.Join(",", options.Tables));
        }
        var published = await PublishedAsync(database, options.Publication, ct).ConfigureAwait(false);
        foreach (var table in options.Tables)
        {
            if (published.Contains(table)) continue;
            // A table added to the source later: into the publication, then snapshotted while the others stream.
            await ExecuteAsync(database, $"ALTER PUBLICATION {Quote(options.Publication)} ADD TABLE {QuoteTable(table)}", ct).ConfigureAwait(false);
            CdcLog.PublicationTableAdded(logger, options.Name, table, options.Publication);
            published.Add(table);
        }

        var slotCreated = false;
        await using (var slot = database.CreateCommand("SELECT plugin::text, database::text FROM pg_replication_slots WHERE slot_name = $1"))
        {
            slot.Parameters.Add(new NpgsqlParameter { Value = options.Slot });
            await using var reader = await slot.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var plugin = reader.IsDBNull(0) ? null : reader.GetString(0);
                var db = reader.IsDBNull(1) ? null : reader.GetString(1);
                if (plugin != "pgoutput" || db != options.Database)
                    throw new CdcSetupException($"replication slot {options.Slot} exists for plugin {plugin} in database {db}: drop it (SELECT pg_drop_replication_slot('{options.Slot}')) or name another with slot=");
            }
            else
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                var created = await replication.CreatePgOutputReplicationSlot(options.Slot, temporarySlot: false, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, cancellationToken: ct).ConfigureAwait(false);
                CdcLog.SlotCreated(logger, options.Name, options.Slot, created.ConsistentPoint.ToString());
                slotCreated = true;
            }
        }
        var tables = published.ToList();
        tables.Sort(StringComparer.Ordinal);
        return new Result(tables, slotCreated);
    }

    /// <summary>Turns a refusal a retry cannot fix into an error that names the fix.</summary>
    public static Exception Explain(CdcSourceOptions options, PostgresException ex) => ex.SqlState switch
    {
        "42501" => new CdcSetupException($"permission denied ({ex.MessageText}): the user {options.User} needs the REPLICATION attribute (ALTER ROLE {options.User} REPLICATION), SELECT on the tables, and ownership of them to create the publication (or create it yourself and name it with publication=)", ex),
        "28P01" or "28000" => new CdcSetupException($"authentication failed for {options.User} ({ex.MessageText}): give the password with passwordEnv=VAR or passwordFile=PATH, or allow the agent's address in pg_hba.conf (also for replication connections)", ex),
        "3D000" => new CdcSetupException($"database {options.Database} does not exist ({ex.MessageText})", ex),
        "55000" or "53400" => new CdcSetupException($"{ex.MessageText}: check wal_level = logical and max_replication_slots / max_wal_senders in postgresql.conf", ex),
        _ => ex,
    };

    private static string[] Split(string table)
    {
        var dot = table.IndexOf('.');
        return [table[..dot], table[(dot + 1)..]];
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string QuoteTable(string table)
    {
        var parts = Split(table);
        return Quote(parts[0]) + "." + Quote(parts[1]);
    }

    private static async Task<HashSet<string>> PublishedAsync(NpgsqlDataSource database, string publication, CancellationToken ct)
    {
        await using var command = database.CreateCommand("SELECT schemaname::text || '.' || tablename::text FROM pg_publication_tables WHERE pubname = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = publication });
        var result = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) result.Add(reader.GetString(0));
        return result;
    }

    private static async Task<bool> ExistsAsync(NpgsqlDataSource database, string sql, CancellationToken ct, params string[] parameters)
    {
        await using var command = database.CreateCommand(sql);
        foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql, CancellationToken ct)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
