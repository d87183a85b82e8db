using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeStream.Cdc.Capture;
using EdgeStream.Cdc.Postgres;
using EdgeStream.Cdc.Records;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EdgeStream.Cdc;

/// <summary>
/// Snapshots tables while the stream runs (DBLog, as Debezium's incremental snapshots): per chunk a
/// low watermark message, a SELECT of the next rows by primary key, a high watermark message. The
/// capture drops from the chunk every key the stream changed between the two watermarks and writes
/// the rest at the high watermark's place in the stream, so each row is once in the log and never
/// older than a change already there. Memory: one chunk. Progress: one key per table in meta.db
/// plus the chunk-end header in the log, so a crash resumes at the next chunk (and a chunk torn by
/// the crash skips the rows it had written).
/// </summary>
internal sealed class ChunkSnapshotter
{
    private readonly CdcSourceOptions _options;
    private readonly NpgsqlDataSource _database;
    private readonly CdcCatalog _catalog;
    private readonly CdcCapture _capture;
    private readonly CdcLogWriter _log;
    private readonly SnapshotProgress _progress;
    private readonly CdcSourceStatus _status;
    private readonly ILogger _logger;
    private readonly string _nonce = Guid.NewGuid().ToString("N")[..12];
    private long _chunks;
    private const int MaxChunkRetries = 100;
    private const int MaxSnapshotWaits = 200;

    public ChunkSnapshotter(CdcSourceOptions options, NpgsqlDataSource database, CdcCatalog catalog, CdcCapture capture,
        CdcLogWriter log, SnapshotProgress progress, CdcSourceStatus status, ILogger logger)
    {
        _options = options;
        _database = database;
        _catalog = catalog;
        _capture = capture;
        _log = log;
        _progress = progress;
        _status = status;
        _logger = logger;
    }

    public async Task SnapshotAsync(string table, CancellationToken ct)
    {
        var columns = await _catalog.TableAsync(table, ct).ConfigureAwait(false);
        if (!columns.HasKey)
        {
            CdcLog.NoPrimaryKey(_logger, _options.Name, table);
            _progress.Save(table, SnapshotProgress.Done, 0);
            return;
        }
        _progress.TryGet(table, out var state, out var offset);
        if (state == SnapshotProgress.Done) return;
        // A chunk the log holds although meta.db missed its progress (crash between the two) counts;
        // a chunk torn by the crash is read again without the rows it already wrote.
        var resume = _log.SnapshotResumeOf(columns.Topic, offset);
        var cursor = resume.Cursor ?? (state == SnapshotProgress.Pending ? null : state);
        var alreadyLogged = resume.TornKeys.Count > 0 ? resume.TornKeys : null;
        if (alreadyLogged is not null) CdcLog.TornChunkResumed(_logger, _options.Name, table, alreadyLogged.Count);
        if (cursor == SnapshotProgress.Done)
        {
            _progress.Save(table, SnapshotProgress.Done, _log.Partition(columns.Topic).HighWatermark);
            return;
        }
        Volatile.Write(ref _status.SnapshotTable, table);
        // The snapshot ends at the largest key the table holds now: a row inserted after this read
        // commits after the slot was created, so the stream carries it. Without the bound, writers
        // inserting above the cursor faster than chunks are read would keep the snapshot from ending.
        // A restart reads it again (a larger bound only snapshots rows the stream also has; DBLog's
        // windows keep that correct).
        var bound = await LargestKeyAsync(columns, ct).ConfigureAwait(false);
        CdcLog.SnapshotStarting(_logger, _options.Name, table, cursor is null ? "from the start" : "after " + cursor);
        long rows = 0;
        var retries = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = new SnapshotChunk($"{_nonce}:{++_chunks}", columns) { AlreadyLogged = alreadyLogged };
            _capture.Chunk = chunk;
            await EmitAsync("L:" + chunk.Id, ct).ConfigureAwait(false);
            var keys = bound is null ? null : await ReadChunkAsync(chunk, cursor, bound, ct).ConfigureAwait(false);
            chunk.Last = chunk.Rows.Count < _options.ChunkRows;
            chunk.EndCursor = chunk.Last ? null : keys;
            await EmitAsync("H:" + chunk.Id, ct).ConfigureAwait(false);
            await chunk.Completed.Task.WaitAsync(ct).ConfigureAwait(false);
            if (chunk.Retry)
            {
                // Rare (a commit racing the low watermark); bounded so a pathological server surfaces as an error.
                if (++retries > MaxChunkRetries) throw new CdcException($"snapshot chunk of {table} raced concurrent commits {MaxChunkRetries} times in a row");
                CdcLog.ChunkRetried(_logger, _options.Name, table, retries);
                continue;
            }
            retries = 0;
            alreadyLogged = null;
            rows += chunk.Rows.Count;
            Interlocked.Add(ref _status.SnapshotRows, chunk.Rows.Count);
            if (chunk.Last) break;
            cursor = chunk.EndCursor;
        }
        Volatile.Write(ref _status.SnapshotTable, null);
        CdcLog.SnapshotDone(_logger, _options.Name, table, rows);
    }

    private async Task EmitAsync(string payload, CancellationToken ct)
    {
        await using var command = _database.CreateCommand("SELECT pg_logical_emit_message(false, $1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = CdcCapture.WatermarkPrefix });
        command.Parameters.Add(new NpgsqlParameter { Value = payload });
        await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The table's largest primary key now (cursor form), or null when the table is empty.</summary>
    private async Task<string?> LargestKeyAsync(CdcColumns columns, CancellationToken ct)
    {
        var keyIndexes = KeyIndexes(columns);
        var keyList = string.Join(", ", keyIndexes.Select(i => TextOf(CdcSetup.Quote(columns.Names[i]))));
        var order = string.Join(", ", keyIndexes.Select(i => CdcSetup.Quote(columns.Names[i]) + " DESC"));
        await using var command = _database.CreateCommand(
            $"SELECT {keyList} FROM ONLY {CdcSetup.Quote(columns.Schema)}.{CdcSetup.Quote(columns.Table)} ORDER BY {order} LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        var values = new string?[keyIndexes.Count];
        for (var k = 0; k < values.Length; k++) values[k] = reader.IsDBNull(k) ? null : reader.GetString(k);
        return FormatCursor(values);
    }

    private static List<int> KeyIndexes(CdcColumns columns)
    {
        var keyIndexes = new List<int>();
        for (var i = 0; i < columns.Count; i++) if (columns.IsKey[i]) keyIndexes.Add(i);
        return keyIndexes;
    }

    /// <summary>
    /// Reads the rows after <paramref name="cursor"/> and up to <paramref name="bound"/> into the chunk;
    /// returns the last row's key (JSON array of text values).
    /// </summary>
    private async Task<string?> ReadChunkAsync(SnapshotChunk chunk, string? cursor, string bound, CancellationToken ct)
    {
        var columns = chunk.Columns;
        var keyIndexes = KeyIndexes(columns);
        var select = string.Join(", ", columns.Names.Select(n => TextOf(CdcSetup.Quote(n))));
        var keyList = string.Join(", ", keyIndexes.Select(i => CdcSetup.Quote(columns.Names[i])));
        var sql = new StringBuilder($"SELECT {select} FROM ONLY {CdcSetup.Quote(columns.Schema)}.{CdcSetup.Quote(columns.Table)} WHERE ");
        await using var command = new NpgsqlCommand();
        void CompareKeys(string op, string keys)
        {
            var values = ParseCursor(keys);
            sql.Append('(').Append(keyList).Append(") ").Append(op).Append(" (");
            for (var k = 0; k < keyIndexes.Count; k++)
            {
                if (k > 0) sql.Append(", ");
                sql.Append('$').Append(command.Parameters.Count + 1).Append("::text::").Append(columns.SqlTypes![keyIndexes[k]]);
                command.Parameters.Add(new NpgsqlParameter { Value = k < values.Count ? values[k] : "" });
            }
            sql.Append(')');
        }
        if (cursor is not null)
        {
            CompareKeys(">", cursor);
            sql.Append(" AND ");
        }
        CompareKeys("<=", bound);
        sql.Append(" ORDER BY ").Append(keyList).Append(" LIMIT ").Append(_options.ChunkRows);
        command.CommandText = sql.ToString();
        await using var connection = await _database.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await BeginAtSnapshotAsync(connection, chunk, ct).ConfigureAwait(false);
        command.Connection = connection;
        command.Transaction = transaction;
        string?[]? last = null;
        var row = new CdcRow(columns.Count);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var source = new CdcSourceInfo(_options.Name, _options.Database, 0, 0, now, Snapshot: true);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var values = new string?[columns.Count];
            row.Reset(columns.Count);
            for (var i = 0; i < columns.Count; i++) row.SetText(i, values[i] = reader.IsDBNull(i) ? null : reader.GetString(i));
            chunk.Rows.Add((CdcEnvelope.Key(columns, row)!, CdcEnvelope.Value(CdcOp.Read, columns, null, row, source, now)));
            last = values;
        }
        await reader.DisposeAsync().ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return last is null ? null : FormatCursor(keyIndexes.Select(i => last[i]));
    }

    /// <summary>
    /// Opens the REPEATABLE READ transaction the chunk is read in, its snapshot taken after the low
    /// watermark. A transaction whose commit record precedes the watermark in the WAL can still be
    /// invisible to that snapshot for a moment (PostgreSQL writes the commit, then leaves the list
    /// of running transactions); its change would be in the log before the window and missing from
    /// the rows, which would then undo it. So: wait while the snapshot lists a transaction that has
    /// already finished, and hand the capture the running ones to check at the high watermark.
    /// </summary>
    private static async Task<NpgsqlTransaction> BeginAtSnapshotAsync(NpgsqlConnection connection, SnapshotChunk chunk, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(
                "SELECT pg_current_snapshot()::text, (SELECT count(*) FROM pg_snapshot_xip(pg_current_snapshot()) x WHERE pg_xact_status(x) <> 'in progress')",
                connection, transaction);
            string snapshot;
            long finished;
            await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await reader.ReadAsync(ct).ConfigureAwait(false);
                snapshot = reader.GetString(0);
                finished = reader.GetInt64(1);
            }
            if (finished == 0 || attempt >= MaxSnapshotWaits)
            {
                chunk.Invisible.Clear();
                // xmin:xmax:xip,xip,... with 64-bit (epoch-qualified) ids; the stream carries their low 32 bits.
                var xip = snapshot.Split(':')[2];
                if (xip.Length > 0)
                    foreach (var id in xip.Split(',')) chunk.Invisible.Add((uint)ulong.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
                return transaction;
            }
            await transaction.RollbackAsync(ct).ConfigureAwait(false);
            await transaction.DisposeAsync().ConfigureAwait(false);
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
    }

    // pgoutput sends each value's output-function text. A cast to text is not always that (char(n)
    // drops its padding, inet gains a /32); format('%s') calls the output function.
    private static string TextOf(string column) => $"CASE WHEN {column} IS NULL THEN NULL ELSE format('%s', {column}) END";

    private static string FormatCursor(IEnumerable<string?> keys)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var k in keys) w.WriteStringValue(k);
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static List<string?> ParseCursor(string cursor)
    {
        using var document = JsonDocument.Parse(cursor);
        var values = new List<string?>();
        foreach (var e in document.RootElement.EnumerateArray()) values.Add(e.ValueKind == JsonValueKind.Null ? null : e.GetString());
        return values;
    }
}
