using Microsoft.Extensions.Logging;

namespace EdgeStream.Cdc;

/// <summary>The CDC sources' log messages (event ids 8000-8099).</summary>
internal static partial class CdcLog
{
    [LoggerMessage(EventId = 8000, Level = LogLevel.Information, Message = "CDC source {Source}: connecting to {Target}")]
    public static partial void Connecting(ILogger logger, string source, string target);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "CDC source {Source}: created publication {Publication} for {Tables}")]
    public static partial void PublicationCreated(ILogger logger, string source, string publication, string tables);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "CDC source {Source}: added table {Table} to publication {Publication}")]
    public static partial void PublicationTableAdded(ILogger logger, string source, string table, string publication);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "CDC source {Source}: created replication slot {Slot} (pgoutput) at {Lsn}")]
    public static partial void SlotCreated(ILogger logger, string source, string slot, string lsn);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information, Message = "CDC source {Source}: streaming from slot {Slot}, publication {Publication}, {Tables} table(s)")]
    public static partial void Streaming(ILogger logger, string source, string slot, string publication, int tables);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Warning, Message = "CDC source {Source}: {Reason}; reconnecting in {DelayMs} ms")]
    public static partial void Reconnecting(ILogger logger, string source, string reason, long delayMs);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Error, Message = "CDC source {Source} failed: {Reason} (retrying in {DelayMs} ms; the other sources keep running)")]
    public static partial void SetupFailed(ILogger logger, string source, string reason, long delayMs);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Information, Message = "CDC source {Source}: snapshot of {Table} starting {From}")]
    public static partial void SnapshotStarting(ILogger logger, string source, string table, string from);

    [LoggerMessage(EventId = 8008, Level = LogLevel.Information, Message = "CDC source {Source}: snapshot of {Table} done ({Rows} rows this run)")]
    public static partial void SnapshotDone(ILogger logger, string source, string table, long rows);

    [LoggerMessage(EventId = 8009, Level = LogLevel.Warning, Message = "CDC source {Source}: slot {Slot} holds {LagBytes} bytes of WAL, over maxSlotLag {MaxBytes}: PostgreSQL cannot recycle that WAL until the agent catches up")]
    public static partial void SlotLagExceeded(ILogger logger, string source, string slot, long lagBytes, long maxBytes);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "CDC source {Source}: table {Table} has no primary key: it is streamed but not snapshotted (add a primary key to snapshot it)")]
    public static partial void NoPrimaryKey(ILogger logger, string source, string table);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Information, Message = "CDC source {Source}: resuming; {Skipped} record(s) PostgreSQL sent again were already in the log")]
    public static partial void SkippedReplays(ILogger logger, string source, long skipped);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Information, Message = "CDC source {Source}: snapshot chunk of {Table} read again ({Attempt}): a transaction committed just before its low watermark was not yet visible to it")]
    public static partial void ChunkRetried(ILogger logger, string source, string table, int attempt);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Information, Message = "CDC source {Source}: snapshot of {Table} resumes a chunk a crash tore; its {Rows} row(s) already in the log are not written again")]
    public static partial void TornChunkResumed(ILogger logger, string source, string table, int rows);
}
