using System.Buffers;
using System.Globalization;
using EdgeStream.Records;
using EdgeStream.Storage.Durability;
using EdgeStream.Storage.Segments;
using EdgeStream.Storage.Transactions;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Storage;

/// <summary>Where an append landed.</summary>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime);

/// <summary>One segment deleted by disk.full.policy=drop-oldest: offsets [FromOffset, ToOffset) are gone.</summary>
internal readonly record struct DroppedSegment(string Segment, long FromOffset, long ToOffset, long Bytes)
{
    public long Records => ToOffset - FromOffset;
}

/// <summary>
/// One partition: an ordered list of segments, the last one active. Offsets are assigned here by
/// rewriting each batch's base offset (outside its CRC). Readers see only offsets below the high
/// watermark, which advances when an append is durable under the fsync policy, so nothing a
/// producer has not been told is safe is ever served, and nothing half-written is ever visible.
/// </summary>
public sealed class PartitionLog : IDisposable
{
    private const string LogStartOffsetFile = "log-start-offset";

    private readonly object _writeLock = new();
    private readonly object _visibleLock = new();
    private readonly TopicLog _topic;
    private readonly StorageOptions _options;
    private readonly DiskBudget _budget;
    private readonly ILogger _logger;
    private readonly GroupCommitter _committer;
    private LogSegment[] _segments;
    private long _logStartOffset;
    private long _logEndOffset;
    private long _size;
    private VisibleEnd _visible;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // 1 once a reader holds _advanced: only then does a publish need a fresh signal (no allocation per append otherwise).
    private int _advancedObserved;
    // Under --fsync os: the end of what has been fsynced (periodic Flush, or a roll). Other policies
    // fsync before the high watermark moves, so there it is the high watermark.
    private long _durableOffset;
    private bool _closed;
    // Built on first use (LastStableOffset, aborted transactions), then fed by every append under
    // _writeLock: a partition nobody reads transactionally never pays for it.
    private TransactionIndex? _transactions;

    // The durable end of the log: an offset and where it sits on disk, swapped as one reference.
    private sealed record VisibleEnd(long Offset, long SegmentBaseOffset, long Position);

    private PartitionLog(TopicLog topic, int partition, string directory, StorageOptions options, DiskBudget budget, ILogger logger, LogSegment[] segments, long logStartOffset)
    {
        _topic = topic;
        Partition = partition;
        Directory = directory;
        _options = options;
        _budget = budget;
        _logger = logger;
        _segments = segments;
        var active = segments[^1];
        _logEndOffset = active.NextOffset;
        _durableOffset = _logEndOffset;
        _logStartOffset = Math.Max(logStartOffset, segments[0].BaseOffset);
        foreach (var s in segments) _size += s.Size;
        _visible = new VisibleEnd(_logEndOffset, active.BaseOffset, active.Size);
        _committer = new GroupCommitter(_logEndOffset,
            options.FsyncPolicy == FsyncPolicy.Group ? options.GroupCommitInterval : TimeSpan.Zero,
            CaptureFlushTarget, FlushTargetToDisk, Publish);
    }

    public string Topic => _topic.Name;
    public int Partition { get; }
    public string Directory { get; }
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);
    /// <summary>The next offset to be assigned, durable or not.</summary>
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);
    /// <summary>One past the last offset readers may see: everything below it is acknowledged.</summary>
    public long HighWatermark => Volatile.Read(ref _visible).Offset;

    /// <summary>
    /// One past the last offset that is on disk (fsynced). The high watermark, except under
    /// <c>--fsync os</c>, where acknowledged records may still sit in the page cache: a power loss
    /// can take them and their offsets would be assigned again. Whatever must never see an offset
    /// twice with different records (the uplink forwards by offset) reads only up to here.
    /// </summary>
    public long DurableOffset => _options.FsyncPolicy == FsyncPolicy.Os
        ? Math.Min(Volatile.Read(ref _durableOffset), HighWatermark)
        : HighWatermark;
    public long SizeBytes => Volatile.Read(ref _size);
    public int SegmentCount => Volatile.Read(ref _segments).Length;

    internal static PartitionLog Create(TopicLog topic, int partition, string directory, StorageOptions options, DiskBudget budget, ILogger logger)
    {
        System.IO.Directory.CreateDirectory(directory);
        var segment = LogSegment.Create(directory, 0, topic.Config.IndexIntervalBytes);
        DirectorySync.Sync(directory);
        DirectorySync.Sync(Path.GetDirectoryName(directory)!);
        return new PartitionLog(topic, partition, directory, options, budget, logger, [segment], 0);
    }

    /// <summary>
    /// Opens a partition directory. The tail segment is always validated batch by batch: a torn
    /// tail is cut, a corrupt batch with valid ones after it is skipped (the rest is kept). Other
    /// segments were fsynced when they rolled and are trusted, their indexes checked and rebuilt if
    /// damaged. Never throws for damage it can repair; the report says what was cut.
    /// </summary>
    internal static PartitionLog Open(TopicLog topic, int partition, string directory, StorageOptions options, DiskBudget budget, ILogger logger, List<SegmentRepair> repairs)
    {
        foreach (var stray in System.IO.Directory.EnumerateFiles(directory, "*" + SegmentRecovery.RepairSuffix))
            File.Delete(stray); // a repair that crashed before its rename: the original is intact
        var bases = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + LogSegment.LogSuffix))
        {
            if (LogSegment.TryParseBaseOffset(file, out var b)) bases.Add(b);
            else StorageLog.Ignored(logger, file, "not a segment name");
        }
        bases.Sort();
        var logStart = ReadLogStartOffset(directory);
        if (bases.Count == 0)
        {
            var fresh = LogSegment.Create(directory, logStart, topic.Config.IndexIntervalBytes);
            return new PartitionLog(topic, partition, directory, options, budget, logger, [fresh], logStart);
        }

        var segments = new LogSegment[bases.Count];
        long nextMin = 0;
        for (var i = 0; i < bases.Count; i++)
        {
            var isTail = i == bases.Count - 1;
            var path = LogSegment.FilePath(directory, bases[i], LogSegment.LogSuffix);
            var minOffset = Math.Max(bases[i], nextMin);
            if (isTail) RecoverSegment(topic.Name, partition, path, minOffset, logger, repairs);
            LogSegment segment;
            bool rebuilt;
            try
            {
                segment = LogSegment.Open(directory, bases[i], topic.Config.IndexIntervalBytes, out rebuilt);
            }
            catch (StorageException)
            {
                // The framing after the last index entry does not add up: scan and repair this one too.
                RecoverSegment(topic.Name, partition, path, minOffset, logger, repairs);
                segment = LogSegment.Open(directory, bases[i], topic.Config.IndexIntervalBytes, out rebuilt);
            }
            if (rebuilt) StorageLog.IndexRebuilt(logger, path);
            segments[i] = segment;
            nextMin = Math.Max(segment.NextOffset, nextMin);
        }
        return new PartitionLog(topic, partition, directory, options, budget, logger, segments, logStart);
    }

    private static void RecoverSegment(string topic, int partition, string path, long minOffset, ILogger logger, List<SegmentRepair> repairs)
    {
        var repair = SegmentRecovery.Check(path, minOffset, repair: true, out _);
        if (!repair.Changed) return;
        repairs.Add(repair);
        foreach (var d in repair.Damage)
            StorageLog.SegmentDamaged(logger, topic, partition, Path.GetFileName(path), d.Position, d.Length, d.Reason.ToString(), d.IsTail,
                d.IsTail ? "cut the tail" : "skipped it, later batches kept");
    }

    /// <summary>
    /// Appends one or more concatenated record batches (magic v2) and returns once they are durable
    /// under the fsync policy. The buffer is modified: base offsets (and, for LogAppendTime topics,
    /// timestamps) are written into it. Throws <see cref="InvalidBatchException"/>,
    /// <see cref="MessageTooLargeException"/> or <see cref="DiskFullException"/> without writing anything,
    /// <see cref="StorageException"/> when the fsync that covered it failed.
    /// </summary>
    public async ValueTask<AppendResult> AppendAsync(Memory<byte> batches, CancellationToken cancellationToken = default)
    {
        var result = Append(batches);
        await WaitDurableAsync(result.LastOffset + 1, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Writes as <see cref="AppendAsync"/> does (and throws the same way, synchronously), starts the
    /// group commit and returns without waiting for it: the append may be acknowledged only once
    /// <see cref="Durability"/> of <c>LastOffset + 1</c> says so. For a caller that acknowledges many
    /// appends in order (an MQTT connection) and waits once for all those one fsync covers instead of
    /// once per append.
    /// </summary>
    public AppendResult Append(Memory<byte> batches)
    {
        var config = _topic.Config;
        ValidateBatches(batches.Span, config);
        // Reserving may first drop closed segments of drop-oldest topics (never of a block topic):
        // see LogManager.DropOldestSegment. No lock of this partition is held here, so the drop
        // may take any partition's write lock, this one included.
        if (!_budget.TryReserveOrDrop(batches.Length))
        {
            var reason = _budget.DescribeRefusal(batches.Length);
            StorageLog.AppendRefused(_logger, Topic, Partition, reason);
            throw new DiskFullException($"{Topic}-{Partition}: {reason}");
        }

        long baseOffset, endOffset, appendTime = -1;
        try
        {
            lock (_writeLock)
            {
                if (_closed) throw new StorageException($"{Topic}-{Partition} is closed");
                var active = _segments[^1];
                if (!active.IsEmpty && (active.Size + batches.Length > config.SegmentBytes || DateTime.UtcNow - active.CreatedUtc > config.SegmentAge))
                    active = Roll();

                baseOffset = _logEndOffset;
                if (config.UseLogAppendTime) appendTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var span = batches.Span;
                var next = baseOffset;
                var transactional = false;
                for (var p = 0; p < span.Length;)
                {
                    var batch = span[p..];
                    RecordBatchHeader.TryRead(batch, out var h);
                    RecordBatchHeader.SetBaseOffset(batch, next);
                    if (appendTime >= 0) RecordBatchHeader.StampLogAppendTime(batch[..h.TotalSize], appendTime);
                    transactional |= h.IsTransactional;
                    next += h.LastOffsetDelta + 1;
                    p += h.TotalSize;
                }
                active.Append(span);
                // Before the batches can become visible (Publish), so a reader that sees them in the
                // high watermark also sees their transaction open in the last stable offset.
                if (transactional && _transactions is { } index) ObserveTransactions(index, span);
                _logEndOffset = endOffset = next;
                Interlocked.Add(ref _size, batches.Length);
                if (_options.FsyncPolicy == FsyncPolicy.Os)
                {
                    _committer.MarkDurable(next);
                    Publish(new FlushTarget(active, next, active.Size));
                }
            }
        }
        catch (IOException ex)
        {
            _budget.Release(batches.Length);
            if (DiskFull.Is(ex))
            {
                StorageLog.AppendRefused(_logger, Topic, Partition, "the disk is full");
                throw new DiskFullException($"{Topic}-{Partition}: the disk is full ({ex.Message}); nothing of this append was kept", ex);
            }
            throw new StorageException($"{Topic}-{Partition}: write failed: {ex.Message}", ex);
        }
        catch
        {
            _budget.Release(batches.Length);
            throw;
        }

        if (_options.FsyncPolicy != FsyncPolicy.Os) _committer.Request(endOffset);
        StorageMetrics.Appended(Topic, endOffset - baseOffset, batches.Length);
        return new AppendResult(baseOffset, endOffset - 1, appendTime);
    }

    /// <summary>Whether everything below <paramref name="endOffset"/> is durable under the fsync policy, not yet, or never will be (a failed fsync); lock-free.</summary>
    public AppendDurability Durability(long endOffset) => _committer.Check(endOffset);

    /// <summary>
    /// Completes once everything below <paramref name="endOffset"/> is durable under the fsync policy
    /// (synchronously when it is already); throws <see cref="StorageException"/> when the fsync that
    /// covered it failed. The waiters of one fsync are woken together.
    /// </summary>
    public ValueTask WaitDurableAsync(long endOffset, CancellationToken cancellationToken = default) =>
        _committer.WaitDurableAsync(endOffset, cancellationToken);

    private void ValidateBatches(ReadOnlySpan<byte> span, TopicConfig config)
    {
        if (span.IsEmpty) throw new InvalidBatchException(BatchValidation.Truncated, $"{Topic}-{Partition}: empty append");
        for (var p = 0; p < span.Length;)
        {
            var rest = span[p..];
            var total = RecordBatchHeader.PeekTotalSize(rest);
            if (total < RecordBatchHeader.Size || total > rest.Length)
                throw new InvalidBatchException(total > rest.Length ? BatchValidation.Truncated : BatchValidation.BadLength,
                    $"{Topic}-{Partition}: record batch at byte {p} claims {total} bytes, {rest.Length} present");
            if (total > config.MaxMessageBytes)
                throw new MessageTooLargeException($"{Topic}-{Partition}: record batch of {total} bytes exceeds max.message.bytes {config.MaxMessageBytes}");
            var validation = RecordBatchHeader.Validate(rest[..total], out _);
            if (validation != BatchValidation.Valid)
                throw new InvalidBatchException(validation, $"{Topic}-{Partition}: record batch at byte {p} is invalid ({validation})");
            p += total;
        }
    }

    // Under _writeLock. The old segment is fsynced before the new one exists, so "everything
    // before the active segment is durable" holds and the group commit only ever syncs one file.
    private LogSegment Roll()
    {
        var old = _segments[^1];
        old.Flush();
        AdvanceDurable(_logEndOffset);
        var segment = LogSegment.Create(Directory, _logEndOffset, _topic.Config.IndexIntervalBytes);
        DirectorySync.Sync(Directory);
        Volatile.Write(ref _segments, [.. _segments, segment]);
        StorageLog.Rolled(_logger, Topic, Partition, _logEndOffset);
        return segment;
    }

    private FlushTarget CaptureFlushTarget()
    {
        lock (_writeLock)
        {
            var active = _segments[^1];
            return new FlushTarget(active, _logEndOffset, active.Size);
        }
    }

    private static void FlushTargetToDisk(FlushTarget target)
    {
        var start = StorageMetrics.Now();
        try { target.Segment.Flush(); }
        catch (ObjectDisposedException) { /* deleted by retention after it rolled: nothing left to sync */ return; }
        StorageMetrics.Fsynced(start);
    }

    private void Publish(FlushTarget target)
    {
        lock (_visibleLock)
        {
            if (target.EndOffset <= _visible.Offset) return;
            Volatile.Write(ref _visible, new VisibleEnd(target.EndOffset, target.Segment.BaseOffset, target.EndPosition));
        }
        // Wake long-polling readers (Kafka fetch with max.wait.ms, the MQTT follower), if any wait.
        SignalAdvanced();
    }

    private void SignalAdvanced()
    {
        if (Interlocked.Exchange(ref _advancedObserved, 0) == 1)
            Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private void AdvanceDurable(long end)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _durableOffset);
            if (end <= current) return;
        }
        while (Interlocked.CompareExchange(ref _durableOffset, end, current) != current);
        if (_options.FsyncPolicy == FsyncPolicy.Os) SignalAdvanced();
    }

    /// <summary>Completes once <see cref="DurableOffset"/> is above <paramref name="offset"/> (at once if it already is); never faults.</summary>
    public Task WhenDurableAbove(long offset)
    {
        // Same signal as the high watermark's: it also fires when a flush makes more of the log durable.
        var signal = Volatile.Read(ref _advanced);
        Interlocked.Exchange(ref _advancedObserved, 1);
        return DurableOffset > offset ? Task.CompletedTask : signal.Task;
    }

    /// <summary>
    /// Completes once the high watermark is above <paramref name="offset"/> (at once if it already is).
    /// Never faults; callers bound the wait with their own timeout.
    /// </summary>
    public Task WhenHighWatermarkAbove(long offset)
    {
        // Read the signal, then mark it observed, then the watermark: a publish that ran before the
        // mark is seen in the watermark; one after it completes the signal we hold.
        var signal = Volatile.Read(ref _advanced);
        Interlocked.Exchange(ref _advancedObserved, 1);
        return HighWatermark > offset ? Task.CompletedTask : signal.Task;
    }

    /// <summary>
    /// Visits the header of every visible batch, oldest first, reading only the 61 header bytes of
    /// each: how producer state (idempotence) is rebuilt from the log itself after a restart.
    /// </summary>
    public void ScanBatchHeaders(Action<RecordBatchHeader> visitor)
    {
        var visible = Volatile.Read(ref _visible);
        foreach (var segment in Volatile.Read(ref _segments))
        {
            var limit = VisibleLimit(segment, visible);
            if (limit <= 0) break;
            segment.VisitHeaders(limit, visitor);
        }
    }

    /// <summary>
    /// Kafka's last stable offset: the high watermark, or the first offset of the oldest transaction
    /// still open if that is lower. read_committed readers and the uplink read only below it. The
    /// first call after start-up builds the partition's transaction index from the batch headers
    /// (one header read per batch, one small read per marker) under the write lock.
    /// </summary>
    public long LastStableOffset
    {
        get
        {
            // The high watermark first: every batch it covers was observed before it became visible.
            var highWatermark = HighWatermark;
            return Math.Min(highWatermark, Transactions().FirstOpenOffset);
        }
    }

    /// <summary>True when the partition holds an aborted transaction a reader may still meet.</summary>
    public bool HasAbortedTransactions => Transactions().HasAborted;

    /// <summary>Adds the aborted transactions overlapping [<paramref name="from"/>, <paramref name="to"/>) to <paramref name="into"/>.</summary>
    public void CollectAbortedTransactions(long from, long to, List<AbortedTransaction> into) =>
        Transactions().CollectAborted(from, to, LogStartOffset, into);

    /// <summary>Open and aborted transactions the index holds (status, tests).</summary>
    public (int Open, int Aborted) TransactionCounts() => Transactions().Counts();

    private TransactionIndex Transactions()
    {
        if (Volatile.Read(ref _transactions) is { } built) return built;
        lock (_writeLock)
        {
            if (_transactions is not null) return _transactions;
            var index = new TransactionIndex();
            // Everything written, durable or not: appends after this feed the index themselves.
            var scratch = new byte[128];
            foreach (var segment in _segments)
            {
                long position = 0;
                var s = segment;
                segment.VisitHeaders(segment.Size, h =>
                {
                    if (h.IsTransactional)
                    {
                        ControlRecordType? type = null;
                        if (h.IsControl)
                        {
                            var read = s.Read(scratch.AsSpan(0, Math.Min(scratch.Length, h.TotalSize)), position);
                            if (ControlBatch.TryReadType(scratch.AsSpan(0, read), out var t)) type = t;
                        }
                        if (!h.IsControl || type is not null) index.Observe(h.ProducerId, h.BaseOffset, type);
                    }
                    position += h.TotalSize;
                });
            }
            Volatile.Write(ref _transactions, index);
            return index;
        }
    }

    private static void ObserveTransactions(TransactionIndex index, ReadOnlySpan<byte> batches)
    {
        for (var p = 0; p < batches.Length;)
        {
            var batch = batches[p..];
            RecordBatchHeader.TryRead(batch, out var h);
            if (h.IsTransactional)
            {
                if (!h.IsControl) index.Observe(h.ProducerId, h.BaseOffset, null);
                else if (ControlBatch.TryReadType(batch[..h.TotalSize], out var type)) index.Observe(h.ProducerId, h.BaseOffset, type);
            }
            p += h.TotalSize;
        }
    }

    /// <summary>fsyncs the active segment and makes everything written so far visible.</summary>
    public void Flush()
    {
        var target = CaptureFlushTarget();
        FlushTargetToDisk(target);
        _committer.MarkDurable(target.EndOffset);
        Publish(target);
        AdvanceDurable(target.EndOffset);
    }

    /// <summary>
    /// Reads whole batches starting with the one that holds <paramref name="offset"/>, up to about
    /// <paramref name="maxBytes"/> (always at least one batch, as Kafka does since KIP-74). An
    /// offset equal to the high watermark yields an empty result; outside [log start, high
    /// watermark] throws <see cref="OffsetOutOfRangeException"/>.
    /// </summary>
    public LogReadResult Read(long offset, int maxBytes) => Read(offset, maxBytes, long.MaxValue);

    /// <summary>
    /// As <see cref="Read(long, int)"/>, but only batches that start below <paramref name="endOffset"/>
    /// (the last stable offset for read_committed readers). An offset at or past it, up to the high
    /// watermark, yields an empty result.
    /// </summary>
    public LogReadResult Read(long offset, int maxBytes, long endOffset)
    {
        var visible = Volatile.Read(ref _visible);
        var segments = Volatile.Read(ref _segments);
        var start = LogStartOffset;
        if (offset < start || offset > visible.Offset)
            throw new OffsetOutOfRangeException($"{Topic}-{Partition}: offset {offset} is outside [{start}, {visible.Offset}]");
        if (offset == visible.Offset || offset >= endOffset || maxBytes <= 0)
            return LogReadResult.Empty(visible.Offset, start);
        try
        {
            for (var i = FindSegmentIndex(segments, offset); i < segments.Length; i++)
            {
                var segment = segments[i];
                var limit = VisibleLimit(segment, visible);
                if (limit <= 0) break;
                var position = segment.FindPosition(offset, limit);
                if (position < 0) continue; // the offset sits in a gap at the end of this segment
                return ReadBatches(segment, position, limit, maxBytes, visible.Offset, start, endOffset);
            }
        }
        catch (ObjectDisposedException)
        {
            throw new OffsetOutOfRangeException($"{Topic}-{Partition}: offset {offset} was deleted by retention while being read");
        }
        return LogReadResult.Empty(visible.Offset, start);
    }

    private static LogReadResult ReadBatches(LogSegment segment, long position, long limit, int maxBytes, long highWatermark, long logStart, long endOffset = long.MaxValue)
    {
        Span<byte> prefix = stackalloc byte[RecordBatchHeader.LogOverhead];
        segment.Read(prefix, position);
        var first = RecordBatchHeader.PeekTotalSize(prefix);
        var available = limit - position;
        var length = (int)Math.Min(available, Math.Max(maxBytes, first));
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var read = segment.Read(buffer.AsSpan(0, length), position);
        // Keep whole batches only.
        var whole = 0;
        while (whole + RecordBatchHeader.LogOverhead <= read)
        {
            var total = RecordBatchHeader.PeekTotalSize(buffer.AsSpan(whole, read - whole));
            if (total <= 0 || whole + total > read) break;
            if (endOffset != long.MaxValue && System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(whole)) >= endOffset) break;
            whole += total;
        }
        return new LogReadResult(buffer, whole, highWatermark, logStart);
    }

    private static long VisibleLimit(LogSegment segment, VisibleEnd visible) =>
        segment.BaseOffset < visible.SegmentBaseOffset ? segment.Size
        : segment.BaseOffset == visible.SegmentBaseOffset ? visible.Position
        : 0;

    private static int FindSegmentIndex(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>
    /// The earliest offset whose record timestamp is at least <paramref name="timestamp"/> (Kafka's
    /// ListOffsets by time), or null when every visible record is older.
    /// </summary>
    public long? FindOffsetByTimestamp(long timestamp)
    {
        var visible = Volatile.Read(ref _visible);
        var segments = Volatile.Read(ref _segments);
        var start = LogStartOffset;
        foreach (var segment in segments)
        {
            var limit = VisibleLimit(segment, visible);
            if (limit <= 0) break;
            if (segment.MaxTimestamp < timestamp && segment != segments[^1]) continue;
            var position = segment.FindPositionByTime(timestamp, limit);
            if (position < 0) continue;
            using var batch = ReadBatches(segment, position, limit, 1, visible.Offset, start);
            return FirstRecordAtOrAfter(batch.Memory, timestamp, start);
        }
        return null;
    }

    /// <summary>
    /// Kafka's ListOffsets MAX_TIMESTAMP (KIP-734): the largest timestamp among visible records and the
    /// offset of the first record carrying it; null for a partition with no visible record. Reads
    /// batch headers only, skipping every segment whose maximum is below the best found so far
    /// (a segment's maximum may count unacknowledged batches too, so it is an upper bound), then
    /// decodes the one batch that holds the answer.
    /// </summary>
    public (long Offset, long Timestamp)? FindMaxTimestamp()
    {
        var visible = Volatile.Read(ref _visible);
        var segments = Volatile.Read(ref _segments);
        var start = LogStartOffset;
        var order = (LogSegment[])segments.Clone();
        // Largest maximum first; among equals the older segment, whose records come first.
        Array.Sort(order, (a, b) => a.MaxTimestamp != b.MaxTimestamp ? b.MaxTimestamp.CompareTo(a.MaxTimestamp) : a.BaseOffset.CompareTo(b.BaseOffset));
        long bestTimestamp = -1, bestBase = long.MaxValue, bestPosition = -1, bestLimit = 0;
        LogSegment? bestSegment = null;
        foreach (var segment in order)
        {
            if (segment.MaxTimestamp < bestTimestamp) break;
            var limit = VisibleLimit(segment, visible);
            if (limit <= 0) continue;
            long position = 0;
            segment.VisitHeaders(limit, h =>
            {
                if (!h.IsControl && h.LastOffset >= start
                    && (h.MaxTimestamp > bestTimestamp || (h.MaxTimestamp == bestTimestamp && h.BaseOffset < bestBase)))
                {
                    bestTimestamp = h.MaxTimestamp;
                    bestBase = h.BaseOffset;
                    bestPosition = position;
                    bestLimit = limit;
                    bestSegment = segment;
                }
                position += h.TotalSize;
            });
        }
        if (bestSegment is null) return null;
        using var batch = ReadBatches(bestSegment, bestPosition, bestLimit, 1, visible.Offset, start);
        try
        {
            foreach (var record in RecordBatchReader.ReadRecords(batch.Memory))
                if (record.Timestamp == bestTimestamp && record.Offset >= start)
                    return (record.Offset, bestTimestamp);
        }
        catch (Exception ex) when (ex is CorruptRecordException or NotSupportedException)
        {
            // A batch we cannot decode here still answers at batch granularity.
        }
        return (Math.Max(bestBase, start), bestTimestamp);
    }

    private static long FirstRecordAtOrAfter(ReadOnlyMemory<byte> batch, long timestamp, long logStart)
    {
        RecordBatchHeader.TryRead(batch.Span, out var header);
        try
        {
            foreach (var record in RecordBatchReader.ReadRecords(batch))
                if (record.Timestamp >= timestamp && record.Offset >= logStart)
                    return record.Offset;
        }
        catch (Exception ex) when (ex is CorruptRecordException or NotSupportedException)
        {
            // A batch we cannot decode here still answers at batch granularity.
        }
        return Math.Max(header.BaseOffset, logStart);
    }

    /// <summary>
    /// Kafka's DeleteRecords: moves the log start offset forward and deletes the segments wholly
    /// below it. The new start offset is persisted before anything is deleted.
    /// </summary>
    public long DeleteRecordsBefore(long offset)
    {
        List<LogSegment> deleted = [];
        lock (_writeLock)
        {
            var hw = HighWatermark;
            if (offset < 0 || offset > hw)
                throw new OffsetOutOfRangeException($"{Topic}-{Partition}: cannot delete records before {offset}; high watermark is {hw}");
            if (offset <= _logStartOffset) return _logStartOffset;
            WriteLogStartOffset(Directory, offset);
            Volatile.Write(ref _logStartOffset, offset);
            var keep = 0;
            while (keep < _segments.Length - 1 && _segments[keep + 1].BaseOffset <= offset) keep++;
            for (var i = 0; i < keep; i++) deleted.Add(_segments[i]);
            if (keep > 0) Volatile.Write(ref _segments, _segments[keep..]);
        }
        foreach (var s in deleted) DeleteSegment(s, "delete-records");
        return offset;
    }

    /// <summary>Applies retention.bytes and retention.ms to closed segments, oldest first. Returns bytes freed.</summary>
    internal (int Segments, long Bytes) EnforceRetention(DateTimeOffset now)
    {
        var config = _topic.Config;
        List<(LogSegment Segment, string Why)> deleted = [];
        lock (_writeLock)
        {
            var segments = _segments;
            var total = SizeBytes;
            var first = 0;
            var cutoff = config.RetentionAge is { } age ? (now - age).ToUnixTimeMilliseconds() : long.MinValue;
            while (first < segments.Length - 1)
            {
                var s = segments[first];
                string? why = null;
                if (config.RetentionBytes >= 0 && total - s.Size >= config.RetentionBytes) why = "retention.bytes";
                else if (config.RetentionAge is not null && NewestTimestamp(s) < cutoff) why = "retention.ms";
                if (why is null) break;
                deleted.Add((s, why));
                total -= s.Size;
                first++;
            }
            if (first == 0) return (0, 0);
            DetachLeadingSegments(first);
        }
        long bytes = 0;
        foreach (var (s, why) in deleted)
        {
            bytes += s.Size;
            DeleteSegment(s, why);
        }
        return (deleted.Count, bytes);
    }

    /// <summary>
    /// The drop-oldest candidate of this partition: its oldest segment, if it is closed (not the
    /// active one) and wholly acknowledged. <paramref name="newestTimestamp"/> orders candidates of
    /// one drop priority (oldest first), <paramref name="baseOffset"/> breaks ties.
    /// </summary>
    internal bool TryPeekDroppable(out long newestTimestamp, out long baseOffset)
    {
        var segments = Volatile.Read(ref _segments);
        newestTimestamp = baseOffset = 0;
        if (segments.Length < 2 || segments[0].NextOffset > HighWatermark) return false;
        baseOffset = segments[0].BaseOffset;
        try { newestTimestamp = NewestTimestamp(segments[0]); }
        catch (IOException) { newestTimestamp = long.MaxValue; } // deleted by retention meanwhile: rank it last
        return true;
    }

    /// <summary>
    /// disk.full.policy=drop-oldest: deletes this partition's oldest segment if it is still closed
    /// and wholly acknowledged, advancing the log start offset past it exactly as retention does.
    /// Readers positioned in it get <see cref="OffsetOutOfRangeException"/> and restart at the new
    /// log start. Null when there was nothing to drop (the active segment is never dropped).
    /// </summary>
    internal DroppedSegment? DropOldestSegment()
    {
        LogSegment segment;
        long from, to;
        lock (_writeLock)
        {
            if (_closed || _segments.Length < 2 || _segments[0].NextOffset > HighWatermark) return null;
            segment = _segments[0];
            from = DetachLeadingSegments(1);
            to = _logStartOffset;
        }
        var bytes = segment.Size;
        DeleteSegment(segment, "disk.full.policy=drop-oldest", logDeletion: false);
        return new DroppedSegment(Path.GetFileName(segment.LogPath), from, to, bytes);
    }

    // Under _writeLock: removes the first `count` (closed) segments from the list and moves the log
    // start offset up to the first segment kept. Returns the log start offset before the move.
    private long DetachLeadingSegments(int count)
    {
        var previousStart = _logStartOffset;
        Volatile.Write(ref _segments, _segments[count..]);
        if (_segments[0].BaseOffset > _logStartOffset) Volatile.Write(ref _logStartOffset, _segments[0].BaseOffset);
        return previousStart;
    }

    private static long NewestTimestamp(LogSegment s) =>
        s.MaxTimestamp >= 0 ? s.MaxTimestamp : new DateTimeOffset(File.GetLastWriteTimeUtc(s.LogPath)).ToUnixTimeMilliseconds();

    private void DeleteSegment(LogSegment segment, string why, bool logDeletion = true)
    {
        var size = segment.Size;
        segment.Delete();
        Interlocked.Add(ref _size, -size);
        _budget.Release(size);
        if (logDeletion) StorageLog.SegmentDeleted(_logger, Topic, Partition, Path.GetFileName(segment.LogPath), size, why);
    }

    private static long ReadLogStartOffset(string directory)
    {
        var path = Path.Combine(directory, LogStartOffsetFile);
        if (!File.Exists(path)) return 0;
        return long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }

    private static void WriteLogStartOffset(string directory, long offset)
    {
        var path = Path.Combine(directory, LogStartOffsetFile);
        var temp = path + ".tmp";
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            f.Write(System.Text.Encoding.ASCII.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));
            f.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        DirectorySync.Sync(directory);
    }

    /// <summary>Flushes and closes every segment. Appends after this throw.</summary>
    public void Dispose()
    {
        LogSegment[] segments;
        lock (_writeLock)
        {
            if (_closed) return;
            _closed = true;
            segments = _segments;
        }
        try { segments[^1].Flush(); }
        catch (ObjectDisposedException) { }
        foreach (var s in segments) s.Dispose();
    }
}
