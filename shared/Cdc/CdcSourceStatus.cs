namespace EdgeStream.Cdc;

/// <summary>A source's state as <c>/v1/status</c> and <c>edgestream cdc status</c> show it.</summary>
public sealed class CdcSourceStatus
{
    private readonly object _lock = new();
    private string _state = "starting";
    private string? _reason;

    public CdcSourceStatus(CdcSourceOptions options) => Options = options;

    public CdcSourceOptions Options { get; }
    public long Rows;
    public long SnapshotRows;
    public long LagBytes;
    public ulong ConfirmedLsn;
    public long LastCommitMillis;
    public int SnapshotTablesPending;
    public int Tables;
    public bool SlotLagExceeded;
    public string? SnapshotTable;

    /// <summary>starting, snapshotting, streaming, reconnecting or failed.</summary>
    public string State { get { lock (_lock) return _state; } }

    public void Set(string state, string? reason = null)
    {
        lock (_lock)
        {
            _state = state;
            _reason = reason;
        }
    }

    public CdcSourceStatusSnapshot Snapshot()
    {
        string state;
        string? reason;
        lock (_lock) (state, reason) = (_state, _reason);
        var lagBytes = Interlocked.Read(ref LagBytes);
        var commit = Interlocked.Read(ref LastCommitMillis);
        return new CdcSourceStatusSnapshot
        {
            Name = Options.Name,
            Database = Options.Describe(),
            State = state,
            Reason = reason,
            Slot = Options.Slot,
            Publication = Options.Publication,
            ConfirmedLsn = FormatLsn(Volatile.Read(ref ConfirmedLsn)),
            LagBytes = lagBytes,
            LagSeconds = lagBytes > 16 * 1024 && commit > 0 ? Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - commit) / 1000.0) : 0,
            SlotLagExceeded = Volatile.Read(ref SlotLagExceeded),
            Rows = Interlocked.Read(ref Rows),
            SnapshotRows = Interlocked.Read(ref SnapshotRows),
            SnapshotTable = Volatile.Read(ref SnapshotTable),
            SnapshotTablesPending = Volatile.Read(ref SnapshotTablesPending),
            Tables = Volatile.Read(ref Tables),
        };
    }

    /// <summary>PostgreSQL's text form of an LSN, e.g. <c>0/16B3748</c>.</summary>
    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";
}

/// <summary>One source in <c>/v1/status</c> (<c>cdc</c> array).</summary>
public sealed class CdcSourceStatusSnapshot
{
    public required string Name { get; init; }
    /// <summary>The database, without any password.</summary>
    public required string Database { get; init; }
    /// <summary>starting, snapshotting, streaming, reconnecting or failed.</summary>
    public required string State { get; init; }
    public string? Reason { get; init; }
    public required string Slot { get; init; }
    public required string Publication { get; init; }
    /// <summary>The position PostgreSQL was told it may release (everything before it is durable in the log).</summary>
    public required string ConfirmedLsn { get; init; }
    /// <summary>WAL bytes the slot holds (server WAL end minus the slot's confirmed flush position).</summary>
    public long LagBytes { get; init; }
    /// <summary>Age of the last transaction made durable, while the slot lags (0 when caught up).</summary>
    public double LagSeconds { get; init; }
    public bool SlotLagExceeded { get; init; }
    /// <summary>Records written since the agent started (snapshot and stream).</summary>
    public long Rows { get; init; }
    public long SnapshotRows { get; init; }
    /// <summary>The table being snapshotted, if any.</summary>
    public string? SnapshotTable { get; init; }
    public int SnapshotTablesPending { get; init; }
    public int Tables { get; init; }
}
