namespace EdgeStream.Cdc.Capture;

/// <summary>
/// What the capture hands the log writer, in stream order: a record, a position PostgreSQL may
/// release once everything before it is durable, or the end of a snapshot chunk.
/// </summary>
internal sealed class CdcItem
{
    public CdcItemKind Kind { get; private init; }
    public string Topic { get; private init; } = "";
    public byte[]? Key { get; private init; }
    public byte[]? Value { get; private init; }
    /// <summary>Position in the stream: the commit LSN of the change's transaction, or the LSN of a snapshot chunk's high watermark.</summary>
    public ulong Lsn { get; private init; }
    /// <summary>Order inside <see cref="Lsn"/>: the change's index in its transaction or chunk.</summary>
    public int Seq { get; private init; }
    public uint TxId { get; private init; }
    public long TimestampMillis { get; private init; }
    public bool TxBegin { get; set; }
    public bool TxEnd { get; set; }
    /// <summary>On the last record of a snapshot chunk: the chunk's end key (JSON array of text), so a restart resumes after it.</summary>
    public string? SnapshotCursor { get; set; }
    /// <summary>For <see cref="CdcItemKind.ChunkDone"/>: the snapshot progress to save, then signal.</summary>
    public SnapshotChunk? Chunk { get; private init; }
    public long CommitMillis { get; private init; }

    public static CdcItem Record(string topic, byte[]? key, byte[]? value, ulong lsn, int seq, uint txId, long timestampMillis) =>
        new() { Kind = CdcItemKind.Record, Topic = topic, Key = key, Value = value, Lsn = lsn, Seq = seq, TxId = txId, TimestampMillis = timestampMillis };

    public static CdcItem Confirm(ulong lsn, long commitMillis) => new() { Kind = CdcItemKind.Confirm, Lsn = lsn, CommitMillis = commitMillis };

    public static CdcItem ChunkDone(SnapshotChunk chunk) => new() { Kind = CdcItemKind.ChunkDone, Chunk = chunk };
}

internal enum CdcItemKind : byte
{
    Record,
    Confirm,
    ChunkDone,
}
