using System.Globalization;
using System.Text;
using EdgeStream.Metadata;
using EdgeStream.Records;
using EdgeStream.Storage;

namespace EdgeStream.Cdc.Capture;

/// <summary>
/// Appends a source's records to their topics (one partition each, so a table keeps commit order)
/// and knows, per topic, the last stream position the log holds: every record carries it in its
/// headers (<c>cdc.lsn</c>, <c>cdc.seq</c>), so the resume position is written atomically with the
/// data and a record at or before it is a replay PostgreSQL sent again, skipped.
/// </summary>
internal sealed class CdcLogWriter
{
    public const string LsnHeader = "cdc.lsn";
    public const string SeqHeader = "cdc.seq";
    public const string TxIdHeader = "cdc.tx.id";
    public const string TxBeginHeader = "cdc.tx.begin";
    public const string TxEndHeader = "cdc.tx.end";
    public const string SnapshotCursorHeader = "cdc.snapshot.cursor";
    private static readonly byte[] One = "1"u8.ToArray();

    private readonly Func<TopicCatalog?> _catalog;
    private readonly Dictionary<string, (ulong Lsn, int Seq)> _tails = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecordBatchBuilder> _builders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<byte[]>> _batches = new(StringComparer.Ordinal);

    // Batches stay well under the default max.message.bytes (1 MiB) a topic accepts.
    private const int MaxBatchBytes = 512 * 1024;

    public CdcLogWriter(Func<TopicCatalog?> catalog) => _catalog = catalog;

    /// <summary>Records skipped because the log already held them (replays after a restart).</summary>
    public long Skipped { get; private set; }

    public TopicCatalog Catalog => _catalog() ?? throw new CdcException("storage is not open");

    /// <summary>The topic's only partition, created (one partition) when missing.</summary>
    public PartitionLog Partition(string topic)
    {
        var catalog = Catalog;
        if (!catalog.TryGet(topic, out var log) || log is null)
        {
            try
            {
                log = catalog.Create(topic, 1, new Dictionary<string, string>());
            }
            catch (TopicAlreadyExistsException)
            {
                catalog.TryGet(topic, out log);
            }
        }
        return log![0];
    }

    /// <summary>
    /// Appends <paramref name="items"/>' records, one batch per topic, and returns once all are
    /// durable. Records at or before their topic's stored position are skipped. Returns the count written.
    /// </summary>
    public async ValueTask<int> AppendAsync(IReadOnlyList<CdcItem> items, CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var item in items)
        {
            if (item.Kind != CdcItemKind.Record) continue;
            var tail = Tail(item.Topic);
            if (item.Lsn < tail.Lsn || (item.Lsn == tail.Lsn && item.Seq <= tail.Seq))
            {
                Skipped++;
                continue;
            }
            _tails[item.Topic] = (item.Lsn, item.Seq);
            if (!_builders.TryGetValue(item.Topic, out var builder)) _builders[item.Topic] = builder = new RecordBatchBuilder();
            builder.Add(Bytes(item.Key), Bytes(item.Value), item.TimestampMillis, Headers(item));
            if (builder.RecordsSize >= MaxBatchBytes) Seal(item.Topic, builder);
            written++;
        }
        if (written == 0) return 0;
        foreach (var (topic, builder) in _builders)
        {
            if (builder.Count > 0) Seal(topic, builder);
        }
        var appends = new List<Task>(_batches.Count);
        foreach (var (topic, batches) in _batches)
        {
            if (batches.Count == 0) continue;
            appends.Add(AppendDurableAsync(Partition(topic), batches.ToArray(), cancellationToken));
            batches.Clear();
        }
        await Task.WhenAll(appends).ConfigureAwait(false);
        return written;
    }

    private void Seal(string topic, RecordBatchBuilder builder)
    {
        if (!_batches.TryGetValue(topic, out var batches)) _batches[topic] = batches = [];
        batches.Add(builder.Build());
        builder.Reset();
    }

    /// <summary>Appends one topic's batches in order (topics run side by side), then waits for the fsync.</summary>
    private static async Task AppendDurableAsync(PartitionLog partition, byte[][] batches, CancellationToken cancellationToken)
    {
        var last = -1L;
        foreach (var batch in batches)
            last = (await partition.AppendAsync(batch, cancellationToken).ConfigureAwait(false)).LastOffset;
        // Under --fsync os an append returns before the fsync: wait for it, PostgreSQL may release the WAL after this.
        while (partition.DurableOffset <= last)
            await Task.WhenAny(partition.WhenDurableAbove(last), Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
    }

    // Not "bytes is null ? null : bytes": null converts to ReadOnlyMemory<byte> through byte[] (empty, not null).
    private static ReadOnlyMemory<byte>? Bytes(byte[]? bytes) => bytes is null ? default(ReadOnlyMemory<byte>?) : new ReadOnlyMemory<byte>(bytes);

    // The builder copies a record's headers as it adds it: one array per header count and one
    // buffer for the numbers' text serve every record (no allocation per record).
    private readonly RecordHeader[][] _headers = [new RecordHeader[3], new RecordHeader[4], new RecordHeader[5], new RecordHeader[6]];
    private readonly byte[] _headerText = new byte[64];

    private RecordHeader[] Headers(CdcItem item)
    {
        var count = 3 + (item.TxBegin ? 1 : 0) + (item.TxEnd ? 1 : 0) + (item.SnapshotCursor is null ? 0 : 1);
        var headers = _headers[count - 3];
        var i = 0;
        var used = 0;
        headers[i++] = new RecordHeader(LsnHeader, Decimal(item.Lsn, ref used));
        headers[i++] = new RecordHeader(SeqHeader, Decimal((ulong)item.Seq, ref used));
        headers[i++] = new RecordHeader(TxIdHeader, Decimal(item.TxId, ref used));
        if (item.TxBegin) headers[i++] = new RecordHeader(TxBeginHeader, One);
        if (item.TxEnd) headers[i++] = new RecordHeader(TxEndHeader, One);
        if (item.SnapshotCursor is not null) headers[i] = new RecordHeader(SnapshotCursorHeader, Encoding.UTF8.GetBytes(item.SnapshotCursor));
        return headers;
    }

    /// <summary>The number's invariant decimal text (as ToString gives it), in the header buffer after <paramref name="used"/>.</summary>
    private ReadOnlyMemory<byte> Decimal(ulong number, ref int used)
    {
        number.TryFormat(_headerText.AsSpan(used), out var written, default, CultureInfo.InvariantCulture);
        var text = _headerText.AsMemory(used, written);
        used += written;
        return text;
    }

    /// <summary>The last stream position the topic holds, read from its last record once, then tracked.</summary>
    private (ulong Lsn, int Seq) Tail(string topic)
    {
        if (_tails.TryGetValue(topic, out var tail)) return tail;
        tail = (0, -1);
        var partition = Partition(topic);
        var end = partition.HighWatermark;
        if (end > partition.LogStartOffset)
        {
            using var read = partition.Read(end - 1, 1);
            var last = LastRecordOf(read.Memory);
            if (last is { } record && TryPosition(record, out var lsn, out var seq)) tail = (lsn, seq);
        }
        _tails[topic] = tail;
        return tail;
    }

    /// <summary>
    /// Where a table's snapshot resumes, from the records of <paramref name="topic"/> at
    /// <paramref name="from"/> on: the last chunk end the log holds (a chunk durable although its
    /// progress never reached meta.db, a crash between the two), and the keys of a torn chunk after
    /// it. A chunk's rows can reach the log in more than one append (the writer takes what the
    /// channel holds, a topic's batches are appended one by one); a kill between them leaves rows
    /// without the chunk's end. Read again, those rows would be in the log twice.
    /// </summary>
    public SnapshotResume SnapshotResumeOf(string topic, long from)
    {
        var partition = Partition(topic);
        var offset = Math.Max(from, partition.LogStartOffset);
        string? cursor = null;
        var torn = new HashSet<string>(StringComparer.Ordinal);
        while (offset < partition.HighWatermark)
        {
            using var read = partition.Read(offset, 1 << 20);
            if (read.IsEmpty) break;
            var memory = read.Memory;
            while (memory.Length >= RecordBatchHeader.LogOverhead)
            {
                var size = RecordBatchHeader.PeekTotalSize(memory.Span);
                if (size <= 0 || size > memory.Length) break;
                foreach (var record in RecordBatchReader.ReadRecords(memory[..size]))
                {
                    offset = record.Offset + 1;
                    string? recordCursor = null;
                    var snapshotRow = false;
                    foreach (var h in record.Headers)
                    {
                        if (h.Value is not { } v) continue;
                        if (h.Key == SnapshotCursorHeader) recordCursor = Encoding.UTF8.GetString(v.Span);
                        // Snapshot rows carry transaction id 0; a streamed change has its transaction's (never 0).
                        else if (h.Key == TxIdHeader) snapshotRow = v.Span.SequenceEqual("0"u8);
                    }
                    if (recordCursor is not null)
                    {
                        cursor = recordCursor;
                        torn.Clear();
                    }
                    else if (snapshotRow && record.Key is { } key)
                    {
                        torn.Add(Encoding.UTF8.GetString(key.Span));
                    }
                }
                memory = memory[size..];
            }
        }
        return new SnapshotResume(cursor, torn);
    }

    private static Record? LastRecordOf(ReadOnlyMemory<byte> batches)
    {
        Record? last = null;
        while (batches.Length >= RecordBatchHeader.LogOverhead)
        {
            var size = RecordBatchHeader.PeekTotalSize(batches.Span);
            if (size <= 0 || size > batches.Length) break;
            var records = RecordBatchReader.ReadRecords(batches[..size]);
            if (records.Count > 0) last = records[^1];
            batches = batches[size..];
        }
        return last;
    }

    private static bool TryPosition(Record record, out ulong lsn, out int seq)
    {
        lsn = 0;
        seq = -1;
        var found = 0;
        foreach (var h in record.Headers)
        {
            if (h.Value is not { } v) continue;
            if (h.Key == LsnHeader && ulong.TryParse(v.Span, NumberStyles.None, CultureInfo.InvariantCulture, out lsn)) found++;
            else if (h.Key == SeqHeader && int.TryParse(v.Span, NumberStyles.None, CultureInfo.InvariantCulture, out seq)) found++;
        }
        return found == 2;
    }
}

/// <summary>What the log says about a table's snapshot: the last chunk end it holds, and the keys already written of a chunk torn after it.</summary>
internal readonly record struct SnapshotResume(string? Cursor, HashSet<string> TornKeys);
