using System.Globalization;
using EdgeStream.Records;
using Microsoft.Win32.SafeHandles;

namespace EdgeStream.Storage.Segments;

/// <summary>
/// One segment of a partition: <c>{baseOffset:D20}.log</c> holding record batches byte for byte as
/// Kafka sends them, plus its sparse offset index (<c>.index</c>) and time index (<c>.timeindex</c>).
/// Appends happen under the partition's write lock; reads may run concurrently with them and only
/// look below the positions the partition says are visible.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";

    private readonly SafeFileHandle _handle;
    private readonly SparseIndex _offsetIndex;
    private readonly SparseIndex _timeIndex;
    private readonly int _indexInterval;
    private long _size;
    private int _bytesSinceIndexEntry;
    private int _disposed;

    private LogSegment(string directory, long baseOffset, SafeFileHandle handle, SparseIndex offsetIndex, SparseIndex timeIndex, int indexInterval)
    {
        Directory = directory;
        BaseOffset = baseOffset;
        _handle = handle;
        _offsetIndex = offsetIndex;
        _timeIndex = timeIndex;
        _indexInterval = indexInterval;
        NextOffset = baseOffset;
        CreatedUtc = DateTime.UtcNow;
    }

    public string Directory { get; }
    public long BaseOffset { get; }
    public string LogPath => FilePath(Directory, BaseOffset, LogSuffix);
    public long Size => Volatile.Read(ref _size);
    /// <summary>One past the last offset stored here (BaseOffset when empty).</summary>
    public long NextOffset { get; private set; }
    public long MaxTimestamp { get; private set; } = -1;
    /// <summary>When the first batch arrived; drives roll by age (segment.ms).</summary>
    public DateTime CreatedUtc { get; private set; }
    public bool IsEmpty => Size == 0;

    public static string FilePath(string directory, long baseOffset, string suffix) =>
        System.IO.Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + suffix);

    public static bool TryParseBaseOffset(string fileName, out long baseOffset) =>
        long.TryParse(System.IO.Path.GetFileNameWithoutExtension(fileName), NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset);

    public static LogSegment Create(string directory, long baseOffset, int indexInterval)
    {
        var handle = File.OpenHandle(FilePath(directory, baseOffset, LogSuffix), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new LogSegment(directory, baseOffset, handle,
            SparseIndex.CreateEmpty(FilePath(directory, baseOffset, IndexSuffix)),
            SparseIndex.CreateEmpty(FilePath(directory, baseOffset, TimeIndexSuffix)),
            indexInterval);
    }

    /// <summary>
    /// Opens an existing segment whose log bytes are known good (already scanned or trusted).
    /// Indexes that are missing or fail their sanity checks are rebuilt from the log, as is the
    /// summary (next offset, max timestamp) of the stretch after the last index entry.
    /// </summary>
    public static LogSegment Open(string directory, long baseOffset, int indexInterval, out bool indexRebuilt)
    {
        var logPath = FilePath(directory, baseOffset, LogSuffix);
        var handle = File.OpenHandle(logPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        var size = RandomAccess.GetLength(handle);
        var maxPosition = (int)Math.Min(size, int.MaxValue);
        var offsetIndex = SparseIndex.TryLoad(FilePath(directory, baseOffset, IndexSuffix), baseOffset, maxPosition);
        var timeIndex = SparseIndex.TryLoad(FilePath(directory, baseOffset, TimeIndexSuffix), long.MinValue, int.MaxValue);
        indexRebuilt = offsetIndex is null || timeIndex is null;
        if (indexRebuilt)
        {
            offsetIndex?.Dispose();
            timeIndex?.Dispose();
            offsetIndex = SparseIndex.CreateEmpty(FilePath(directory, baseOffset, IndexSuffix));
            timeIndex = SparseIndex.CreateEmpty(FilePath(directory, baseOffset, TimeIndexSuffix));
        }
        var segment = new LogSegment(directory, baseOffset, handle, offsetIndex!, timeIndex!, indexInterval) { _size = size };
        segment.CreatedUtc = File.GetLastWriteTimeUtc(logPath);
        try
        {
            var ok = segment.TryLoadSummary(rebuildIndexes: indexRebuilt);
            if (!ok && !indexRebuilt)
            {
                // The last index entry does not lead to a clean chain of batches: the index is stale.
                indexRebuilt = true;
                segment.ResetIndexes();
                ok = segment.TryLoadSummary(rebuildIndexes: true);
            }
            if (!ok)
                throw new StorageException($"{logPath}: batch framing does not add up to the file size; the segment needs recovery.");
        }
        catch
        {
            segment.Dispose();
            throw;
        }
        return segment;
    }

    // Reads batch headers from the last indexed position (or the start, when rebuilding) to the
    // end, to learn NextOffset and MaxTimestamp and to re-add index entries. False when the
    // headers do not chain exactly to the end of the file.
    private bool TryLoadSummary(bool rebuildIndexes)
    {
        long position = 0;
        if (!rebuildIndexes && _offsetIndex.Count > 0)
        {
            position = _offsetIndex.LastValue;
            if (_timeIndex.Count > 0) MaxTimestamp = _timeIndex.LastKey;
        }
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        var size = Size;
        while (position + RecordBatchHeader.Size <= size)
        {
            if (RandomAccess.Read(_handle, header, position) < RecordBatchHeader.Size) break;
            RecordBatchHeader.TryRead(header, out var h);
            if (!IsPlausible(h, position, size)) break;
            if (rebuildIndexes) AddIndexEntries(h, (int)position);
            else if (h.MaxTimestamp > MaxTimestamp) MaxTimestamp = h.MaxTimestamp;
            NextOffset = h.LastOffset + 1;
            position += h.TotalSize;
        }
        return position == size;
    }

    private void ResetIndexes()
    {
        _offsetIndex.Clear();
        _timeIndex.Clear();
        _bytesSinceIndexEntry = 0;
        MaxTimestamp = -1;
        NextOffset = BaseOffset;
    }

    private bool IsPlausible(in RecordBatchHeader h, long position, long limit) =>
        h.Magic == RecordBatchHeader.CurrentMagic && h.TotalSize >= RecordBatchHeader.Size && position + h.TotalSize <= limit && h.BaseOffset >= BaseOffset;

    private void AddIndexEntries(in RecordBatchHeader h, int position)
    {
        if (_offsetIndex.Count == 0 || _bytesSinceIndexEntry >= _indexInterval)
        {
            _offsetIndex.Append(h.BaseOffset, position);
            if (h.MaxTimestamp > _timeIndex.LastKey)
                _timeIndex.Append(Math.Max(h.MaxTimestamp, MaxTimestamp), (int)(h.BaseOffset - BaseOffset));
            _bytesSinceIndexEntry = 0;
        }
        _bytesSinceIndexEntry += h.TotalSize;
        if (h.MaxTimestamp > MaxTimestamp) MaxTimestamp = h.MaxTimestamp;
    }

    /// <summary>
    /// Appends batches whose offsets are already assigned. The caller holds the partition's write
    /// lock. On an I/O error the file is cut back to its old size so no partial batch stays behind.
    /// </summary>
    public void Append(ReadOnlySpan<byte> batches)
    {
        var start = _size;
        if (start == 0) CreatedUtc = DateTime.UtcNow;
        try
        {
            RandomAccess.Write(_handle, batches, start);
        }
        catch (IOException)
        {
            try { RandomAccess.SetLength(_handle, start); } catch (IOException) { /* the original error is the one to report */ }
            throw;
        }
        var position = 0;
        while (position < batches.Length)
        {
            RecordBatchHeader.TryRead(batches[position..], out var h);
            AddIndexEntries(h, (int)(start + position));
            NextOffset = h.LastOffset + 1;
            position += h.TotalSize;
        }
        Volatile.Write(ref _size, start + batches.Length);
    }

    public int Read(Span<byte> destination, long position) => RandomAccess.Read(_handle, destination, position);

    /// <summary>
    /// The position of the batch holding <paramref name="offset"/>, or of the first batch after it
    /// when the offset falls in a gap; -1 when nothing below <paramref name="limit"/> qualifies.
    /// </summary>
    public long FindPosition(long offset, long limit)
    {
        long position = 0;
        if (_offsetIndex.TryFindFloor(offset, out _, out var indexed)) position = indexed;
        return ScanForward(position, limit, h => h.LastOffset >= offset);
    }

    /// <summary>The position of the first batch whose max timestamp is at least <paramref name="timestamp"/>, or -1.</summary>
    public long FindPositionByTime(long timestamp, long limit)
    {
        long position = 0;
        if (_timeIndex.TryFindBelow(timestamp, out _, out var relativeOffset)
            && _offsetIndex.TryFindFloor(BaseOffset + relativeOffset, out _, out var indexed))
            position = indexed;
        return ScanForward(position, limit, h => h.MaxTimestamp >= timestamp);
    }

    // Walks batch headers from a hinted position. Index entries are hints: if one leads to bytes
    // that are not a batch header, start again from the beginning of the segment.
    private long ScanForward(long position, long limit, Func<RecordBatchHeader, bool> match)
    {
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        var start = position;
        while (position + RecordBatchHeader.Size <= limit)
        {
            if (RandomAccess.Read(_handle, header, position) < RecordBatchHeader.Size) return -1;
            RecordBatchHeader.TryRead(header, out var h);
            if (!IsPlausible(h, position, Math.Max(limit, Size)))
            {
                if (start == 0) return -1;
                position = start = 0;
                continue;
            }
            if (match(h)) return position;
            position += h.TotalSize;
        }
        return -1;
    }

    public void VisitHeaders(long limit, Action<RecordBatchHeader> visitor)
    {
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        long position = 0;
        while (position + RecordBatchHeader.Size <= limit)
        {
            if (RandomAccess.Read(_handle, header, position) < RecordBatchHeader.Size) return;
            RecordBatchHeader.TryRead(header, out var h);
            if (!IsPlausible(h, position, limit)) return;
            visitor(h);
            position += h.TotalSize;
        }
    }

    /// <summary>Makes the log bytes durable. Index files are hints and only get flushed to the OS.</summary>
    public void Flush()
    {
        RandomAccess.FlushToDisk(_handle);
        _offsetIndex.Flush();
        _timeIndex.Flush();
    }

    public void FlushIndexes()
    {
        _offsetIndex.Flush();
        _timeIndex.Flush();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _offsetIndex.Dispose();
        _timeIndex.Dispose();
        _handle.Dispose();
    }

    public void Delete()
    {
        Dispose();
        File.Delete(LogPath);
        File.Delete(FilePath(Directory, BaseOffset, IndexSuffix));
        File.Delete(FilePath(Directory, BaseOffset, TimeIndexSuffix));
    }
}
