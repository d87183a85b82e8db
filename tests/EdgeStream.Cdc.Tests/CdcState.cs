using System.Text.Json;

namespace EdgeStream.Cdc.Tests;

/// <summary>A table's state rebuilt from its CDC records, and the checks that each change is there once.</summary>
public static class CdcState
{
    /// <summary>id → value of column <paramref name="column"/> after replaying the records in log order.</summary>
    public static Dictionary<long, long> Replay(IReadOnlyList<CdcRecord> records, string column = "v")
    {
        var state = new Dictionary<long, long>();
        foreach (var r in records)
        {
            switch (r.Op)
            {
                case "r" or "c" or "u":
                    state[r.Id] = r.After.GetProperty(column).GetInt64();
                    break;
                case "d":
                    state.Remove(r.Id);
                    break;
                case "t":
                    state.Clear();
                    break;
            }
        }
        return state;
    }

    /// <summary>No stream position twice (a record stored twice would repeat its commit LSN and index).</summary>
    public static void AssertNoDuplicates(IReadOnlyList<CdcRecord> records)
    {
        var seen = new HashSet<(ulong, int)>();
        foreach (var r in records)
            Assert.True(seen.Add((r.Lsn, r.Seq)), $"record at offset {r.Offset} repeats position {r.Lsn}/{r.Seq}");
        var positions = records.Select(r => (r.Lsn, r.Seq)).ToList();
        for (var i = 1; i < positions.Count; i++)
            Assert.True(positions[i].CompareTo(positions[i - 1]) > 0, $"offset {records[i].Offset}: position {positions[i]} after {positions[i - 1]}");
    }

    public static async Task<Dictionary<long, long>> TableAsync(PostgresServer pg, string db, string table, string column = "v")
    {
        await using var connection = new Npgsql.NpgsqlConnection(pg.ConnectionString(db));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT id::int8, {column}::int8 FROM {table}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var state = new Dictionary<long, long>();
        while (await reader.ReadAsync()) state[reader.GetInt64(0)] = reader.GetInt64(1);
        return state;
    }

    /// <summary>
    /// The table equals the records replayed; on a difference the message lists, for the first keys
    /// that differ, every record of theirs (op, position, offset), which is what tells a lost change
    /// from a stale snapshot row.
    /// </summary>
    public static void AssertSame(Dictionary<long, long> expected, IReadOnlyList<CdcRecord> records)
    {
        var actual = Replay(records);
        var missing = expected.Keys.Where(k => !actual.ContainsKey(k)).Take(10).ToList();
        var extra = actual.Keys.Where(k => !expected.ContainsKey(k)).Take(10).ToList();
        var wrong = expected.Where(kv => actual.TryGetValue(kv.Key, out var v) && v != kv.Value).Take(10).ToList();
        if (missing.Count == 0 && extra.Count == 0 && wrong.Count == 0) return;
        var keys = missing.Concat(extra).Concat(wrong.Select(kv => kv.Key)).Take(5).ToHashSet();
        var history = records.Where(r => r.Key is not null && keys.Contains(r.Id))
            .Select(r => $"{r.Id}: {r.Op ?? "tombstone"} at {r.Lsn:X}/{r.Seq} offset {r.Offset}");
        Assert.Fail($"log state differs from the table ({expected.Count} rows vs {actual.Count}): missing {string.Join(",", missing)}; " +
            $"extra {string.Join(",", extra)}; wrong {string.Join("; ", wrong.Select(kv => $"{kv.Key}: {kv.Value} vs {actual[kv.Key]}"))}\n" +
            $"their records:\n{string.Join("\n", history)}");
    }
}

/// <summary>Sessions writing to a table until stopped: inserts of new ids, updates and deletes of random ones.</summary>
public sealed class TableWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;
    public long Transactions;

    public TableWriter(PostgresServer pg, string db, string table, long firstNewId, int sessions = 2, int delayMs = 0)
    {
        _task = Task.WhenAll(Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
        {
            var random = new Random(s);
            await using var connection = new Npgsql.NpgsqlConnection(pg.ConnectionString(db));
            await connection.OpenAsync();
            // Sessions interleave new ids (s, s + sessions, ...) so inserts grow the key as a serial
            // column does: above the largest key when the snapshot started, which the stream carries.
            var next = firstNewId + s;
            long NextId() { var id = next; next += sessions; return id; }
            while (!_stop.IsCancellationRequested)
            {
                var id = random.NextInt64(1, Math.Max(2, firstNewId));
                var sql = random.Next(4) switch
                {
                    0 => $"INSERT INTO {table} (id, v) VALUES ({NextId()}, 0)",
                    1 => $"DELETE FROM {table} WHERE id = {id}",
                    2 => $"BEGIN; UPDATE {table} SET v = v + 1 WHERE id = {id}; INSERT INTO {table} (id, v) VALUES ({NextId()}, 1); COMMIT",
                    _ => $"UPDATE {table} SET v = v + 1 WHERE id = {id}",
                };
                try
                {
                    await using var command = new Npgsql.NpgsqlCommand(sql, connection);
                    await command.ExecuteNonQueryAsync();
                    Interlocked.Increment(ref Transactions);
                }
                catch (Npgsql.NpgsqlException) when (!_stop.IsCancellationRequested)
                {
                    // PostgreSQL restarting under the test: reconnect.
                    await connection.CloseAsync();
                    await WaitOpenAsync(connection);
                }
                if (delayMs > 0) await Task.Delay(delayMs);
            }
        })));
    }

    private async Task WaitOpenAsync(Npgsql.NpgsqlConnection connection)
    {
        for (var i = 0; i < 600 && !_stop.IsCancellationRequested; i++)
        {
            try { await connection.OpenAsync(); return; }
            catch (Npgsql.NpgsqlException) { await Task.Delay(100); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _task; } catch (OperationCanceledException) { }
    }
}
