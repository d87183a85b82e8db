using EdgeStream.Cdc.Records;

namespace EdgeStream.Cdc;

/// <summary>
/// One chunk of a table's snapshot between its low and high watermark (DBLog): rows read by primary
/// key after the previous chunk's end. Keys the stream changes inside the window are dropped from
/// the chunk (the stream's record is newer); the rest are written at the high watermark's position.
/// </summary>
internal sealed class SnapshotChunk
{
    public SnapshotChunk(string id, CdcColumns columns) { Id = id; Columns = columns; }

    /// <summary>The watermark payload identifying this chunk: source run nonce and sequence number.</summary>
    public string Id { get; }
    public CdcColumns Columns { get; }
    public string Topic => Columns.Topic;
    /// <summary>Rows read: key bytes (window matching) and the encoded value.</summary>
    public List<(byte[] Key, byte[] Value)> Rows { get; } = [];
    /// <summary>The chunk's end key as a JSON array of text values; null when the table has no more rows.</summary>
    public string? EndCursor { get; set; }
    /// <summary>True when this is the table's last chunk.</summary>
    public bool Last { get; set; }
    /// <summary>Keys (their JSON text) changed by the stream since the low watermark; null outside the window.</summary>
    public HashSet<string>? Window { get; set; }
    /// <summary>
    /// Keys (their JSON text) of rows a crash left in the log from this same chunk before its end was
    /// written: already there at an earlier place, followed by any change since, so not written again.
    /// </summary>
    public HashSet<string>? AlreadyLogged { get; init; }
    /// <summary>A TRUNCATE inside the window: none of the rows read are current.</summary>
    public bool Truncated { get; set; }
    /// <summary>
    /// Transactions running for the chunk's SELECT (its snapshot's in-progress list, low 32 bits):
    /// their changes are not in the rows read, so each must reach the stream inside the window.
    /// </summary>
    public HashSet<uint> Invisible { get; } = [];
    /// <summary>The transactions the stream delivered just before the low watermark, taken when it arrived.</summary>
    public uint[]? DeliveredBeforeLow { get; set; }
    /// <summary>
    /// Set instead of writing the rows when a transaction the SELECT could not see was delivered before
    /// the low watermark (committed in the WAL before it, not yet visible when the SELECT began): the
    /// rows may be older than that change, so the chunk is read again.
    /// </summary>
    public bool Retry { get; set; }
    /// <summary>Set once the chunk's rows are durable and the progress saved (or, with <see cref="Retry"/>, dropped).</summary>
    public TaskCompletionSource Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
