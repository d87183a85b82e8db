using Microsoft.Extensions.Logging;
using Npgsql;

namespace EdgeStream.Cdc.Capture;

/// <summary>
/// Measures the slot's lag (WAL the server keeps for it) and keeps an idle slot moving: when the
/// captured tables are quiet but the server's WAL grows, a non-transactional heartbeat message is
/// written; it comes back through the slot after everything committed before it, and once that is
/// durable its LSN is confirmed. A lag over maxSlotLag is logged (once a minute) and exported.
/// </summary>
internal sealed class SlotMonitor
{
    private const long IdleThreshold = 16 * 1024;
    private readonly CdcSourceOptions _options;
    private readonly NpgsqlDataSource _database;
    private readonly CdcSourceStatus _status;
    private readonly ILogger _logger;
    private DateTimeOffset _lastWarning = DateTimeOffset.MinValue;

    public SlotMonitor(CdcSourceOptions options, NpgsqlDataSource database, CdcSourceStatus status, ILogger logger)
    {
        _options = options;
        _database = database;
        _status = status;
        _logger = logger;
    }

    public async Task TickAsync(CancellationToken ct)
    {
        long lag;
        await using (var command = _database.CreateCommand(
            "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::int8 FROM pg_replication_slots WHERE slot_name = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = _options.Slot });
            var result = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            lag = result is long l ? l : 0;
        }
        Interlocked.Exchange(ref _status.LagBytes, lag);
        var exceeded = lag > _options.MaxSlotLag;
        Volatile.Write(ref _status.SlotLagExceeded, exceeded);
        if (exceeded && DateTimeOffset.UtcNow - _lastWarning > TimeSpan.FromMinutes(1))
        {
            _lastWarning = DateTimeOffset.UtcNow;
            CdcLog.SlotLagExceeded(_logger, _options.Name, _options.Slot, lag, _options.MaxSlotLag);
        }
        if (lag > IdleThreshold)
        {
            await using var heartbeat = _database.CreateCommand("SELECT pg_logical_emit_message(false, $1, '')");
            heartbeat.Parameters.Add(new NpgsqlParameter { Value = CdcCapture.HeartbeatPrefix });
            await heartbeat.ExecuteScalarAsync(ct).ConfigureAwait(false);
        }
    }
}
