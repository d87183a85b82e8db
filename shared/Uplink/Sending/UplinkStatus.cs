namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Live counters of the sender, safe to read from any thread (the HTTP status endpoint). Written by
/// <see cref="UplinkForwarder"/> only.
/// </summary>
public sealed class UplinkStatus
{
    private long _framesSent, _recordsSent, _bytesSent, _rawBytesSent, _framesAcked, _recordsAcked, _duplicates, _retried, _reconnects, _skippedRecords;
    private volatile string? _currentParent;
    private volatile string? _lastError;
    private volatile bool _connected;
    private volatile bool _revoked;
    private long _revokedRefusals;
    private volatile PartitionBacklog[] _backlog = [];

    public long FramesSent => Interlocked.Read(ref _framesSent);
    public long RecordsSent => Interlocked.Read(ref _recordsSent);
    /// <summary>Compressed payload bytes written to the parent.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    /// <summary>The same frames' bytes before compression: with <see cref="BytesSent"/>, what LZ4 saves on the link.</summary>
    public long RawBytesSent => Interlocked.Read(ref _rawBytesSent);
    /// <summary>Frames answered OK or DUPLICATE.</summary>
    public long FramesAcked => Interlocked.Read(ref _framesAcked);
    public long RecordsAcked => Interlocked.Read(ref _recordsAcked);
    /// <summary>Frames the parent already had (re-sends after a reconnect or a crash).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);
    /// <summary>Frames answered STORAGE_FULL or UNAVAILABLE (sent again later).</summary>
    public long Retried => Interlocked.Read(ref _retried);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>Records deleted locally (retention, drop-oldest) before they were sent.</summary>
    public long SkippedRecords => Interlocked.Read(ref _skippedRecords);
    /// <summary>Times the parent refused this node, or an origin it relays, because it is revoked there.</summary>
    public long RevokedRefusals => Interlocked.Read(ref _revokedRefusals);
    /// <summary>True while the parent's last word was that this node is revoked (until a frame is acknowledged again).</summary>
    public bool Revoked => _revoked;
    /// <summary>The parent in use (HOST:PORT), or null before the first attempt.</summary>
    public string? CurrentParent => _currentParent;
    /// <summary>True while a stream to <see cref="CurrentParent"/> is answering.</summary>
    public bool Connected => _connected;
    /// <summary>Per forwarded partition: high watermark minus acknowledged cursor, refreshed about once a second.</summary>
    public IReadOnlyList<PartitionBacklog> Backlog => _backlog;

    internal void Sent(int records, int bytes, int rawBytes)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _recordsSent, records);
        Interlocked.Add(ref _bytesSent, bytes);
        Interlocked.Add(ref _rawBytesSent, rawBytes);
    }

    internal void Acked(int records, bool duplicate)
    {
        Interlocked.Increment(ref _framesAcked);
        Interlocked.Add(ref _recordsAcked, records);
        if (duplicate) Interlocked.Increment(ref _duplicates);
    }

    /// <summary>The last reason a connection to a parent failed ("HOST:PORT: reason"), or null.</summary>
    public string? LastError => _lastError;

    internal void Failed(string error) => _lastError = error;
    internal void RevokedRefusal() => Interlocked.Increment(ref _revokedRefusals);
    internal void SetRevoked(bool revoked) => _revoked = revoked;
    internal void Retry() => Interlocked.Increment(ref _retried);
    internal void Reconnect() => Interlocked.Increment(ref _reconnects);
    internal void Skipped(long records) => Interlocked.Add(ref _skippedRecords, records);
    internal void SetParent(string? parent, bool connected)
    {
        _currentParent = parent;
        _connected = connected;
    }
    internal void SetConnected(bool connected) => _connected = connected;
    internal void SetBacklog(PartitionBacklog[] backlog) => _backlog = backlog;

    /// <summary>A copy for serialization.</summary>
    public UplinkStatusSnapshot Snapshot()
    {
        var backlog = _backlog;
        long total = 0, bytes = 0;
        double age = 0;
        foreach (var b in backlog)
        {
            total += b.Records;
            bytes += b.Bytes;
            age = Math.Max(age, b.AgeSeconds);
        }
        return new UplinkStatusSnapshot
        {
            Parent = CurrentParent,
            Connected = Connected,
            FramesSent = FramesSent,
            RecordsSent = RecordsSent,
            BytesSent = BytesSent,
            RawBytesSent = RawBytesSent,
            FramesAcked = FramesAcked,
            RecordsAcked = RecordsAcked,
            Duplicates = Duplicates,
            Retried = Retried,
            Reconnects = Reconnects,
            SkippedRecords = SkippedRecords,
            RevokedRefusals = RevokedRefusals,
            Revoked = Revoked,
            BacklogRecords = total,
            BacklogBytes = bytes,
            BacklogAgeSeconds = age,
            Partitions = backlog,
            LastError = LastError,
        };
    }
}

/// <summary>
/// Records of one local partition not yet acknowledged by the parent. <see cref="Bytes"/> is estimated
/// from the partition's average record size; <see cref="AgeSeconds"/> is how long the partition has been
/// behind without catching up (an upper bound of the age of its oldest unacknowledged record).
/// </summary>
public sealed record PartitionBacklog(string Topic, int Partition, long Cursor, long HighWatermark, long Bytes = 0, double AgeSeconds = 0)
{
    public long Records => Math.Max(0, HighWatermark - Cursor);
}

/// <summary>The <c>uplink</c> section of <c>GET /v1/status</c>.</summary>
public sealed class UplinkStatusSnapshot
{
    public string? Parent { get; init; }
    public bool Connected { get; init; }
    public long FramesSent { get; init; }
    public long RecordsSent { get; init; }
    public long BytesSent { get; init; }
    /// <summary>What <see cref="BytesSent"/> held before compression.</summary>
    public long RawBytesSent { get; init; }
    public long FramesAcked { get; init; }
    public long RecordsAcked { get; init; }
    public long Duplicates { get; init; }
    public long Retried { get; init; }
    public long Reconnects { get; init; }
    public long SkippedRecords { get; init; }
    /// <summary>Times the parent refused this node (or an origin it relays) as revoked.</summary>
    public long RevokedRefusals { get; init; }
    /// <summary>The parent refuses this node: it is revoked there.</summary>
    public bool Revoked { get; init; }
    public long BacklogRecords { get; init; }
    /// <summary>Estimated bytes of <see cref="BacklogRecords"/>.</summary>
    public long BacklogBytes { get; init; }
    /// <summary>The longest any partition has been behind (see <see cref="PartitionBacklog.AgeSeconds"/>).</summary>
    public double BacklogAgeSeconds { get; init; }
    public IReadOnlyList<PartitionBacklog> Partitions { get; init; } = [];
    public string? LastError { get; init; }
}
