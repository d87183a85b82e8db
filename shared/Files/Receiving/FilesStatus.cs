namespace EdgeStream.Files.Receiving;

/// <summary>
/// What a receiver shows: per origin, the files being reassembled (progress, rate, state) and the last
/// ones completed, plus totals. Fed by <see cref="FileAssembler"/>; read by <c>/v1/status</c> and the
/// <c>files</c> verb. Thread-safe.
/// </summary>
public sealed class FilesStatus
{
    private const int CompletedKept = 100;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, InFlight> _inFlight = [];
    private readonly Dictionary<string, Queue<FileEntry>> _completed = [];
    private long _filesCompleted;
    private long _bytesCompleted;
    private long _rejectedRecords;
    private long _badChunks;
    private string? _lastError;

    public FilesStatus(string directory) => Directory = directory;

    public string Directory { get; }

    internal void Progress(string origin, string fileId, string path, long size, long received, string state)
    {
        lock (_lock)
        {
            var key = origin + "/" + fileId;
            if (!_inFlight.TryGetValue(key, out var f))
                _inFlight[key] = f = new InFlight(origin, fileId, path, size, DateTimeOffset.UtcNow);
            f.Received = received;
            // A bad chunk stays visible until the file completes (a good copy of the chunk may never come).
            f.State = f.BadChunks > 0 && state == "receiving" ? "bad-chunk" : state;
            f.LastAt = DateTimeOffset.UtcNow;
        }
    }

    internal void BadChunk(string origin, string fileId, string path, long size, long received)
    {
        lock (_lock)
        {
            _badChunks++;
            Progress(origin, fileId, path, size, received, "bad-chunk");
            _inFlight[origin + "/" + fileId].BadChunks++;
        }
    }

    internal void Completed(string origin, string fileId, string path, long size)
    {
        lock (_lock)
        {
            var started = _inFlight.Remove(origin + "/" + fileId, out var f) ? f.StartedAt : DateTimeOffset.UtcNow;
            if (!_completed.TryGetValue(origin, out var queue)) _completed[origin] = queue = new Queue<FileEntry>();
            var now = DateTimeOffset.UtcNow;
            var seconds = Math.Max((now - started).TotalSeconds, 0.001);
            queue.Enqueue(new FileEntry { FileId = fileId, Path = path, Size = size, Received = size, State = "completed", StartedAt = started, UpdatedAt = now, BytesPerSecond = (long)(size / seconds) });
            while (queue.Count > CompletedKept) queue.Dequeue();
            _filesCompleted++;
            _bytesCompleted += size;
        }
    }

    internal void Rejected(string reason)
    {
        lock (_lock)
        {
            _rejectedRecords++;
            _lastError = reason;
        }
    }

    internal void Error(string error)
    {
        lock (_lock) _lastError = error;
    }

    public FilesStatusSnapshot Snapshot()
    {
        lock (_lock)
        {
            var origins = new SortedDictionary<string, FilesOriginStatus>(StringComparer.Ordinal);
            FilesOriginStatus Origin(string name)
            {
                if (!origins.TryGetValue(name, out var o)) origins[name] = o = new FilesOriginStatus { Origin = name };
                return o;
            }
            var now = DateTimeOffset.UtcNow;
            foreach (var f in _inFlight.Values)
            {
                var seconds = Math.Max((f.LastAt - f.StartedAt).TotalSeconds, 0.001);
                Origin(f.Origin).InFlight.Add(new FileEntry
                {
                    FileId = f.FileId, Path = f.Path, Size = f.Size, Received = f.Received, State = f.State, BadChunks = f.BadChunks,
                    StartedAt = f.StartedAt, UpdatedAt = f.LastAt, BytesPerSecond = (long)(f.Received / seconds),
                });
            }
            foreach (var (origin, queue) in _completed) Origin(origin).Completed.AddRange(queue);
            foreach (var o in origins.Values) o.InFlight.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
            return new FilesStatusSnapshot
            {
                Directory = Directory, FilesCompleted = _filesCompleted, BytesCompleted = _bytesCompleted,
                RejectedRecords = _rejectedRecords, BadChunks = _badChunks, LastError = _lastError, Origins = [.. origins.Values],
            };
        }
    }

    private sealed class InFlight(string origin, string fileId, string path, long size, DateTimeOffset startedAt)
    {
        public string Origin { get; } = origin;
        public string FileId { get; } = fileId;
        public string Path { get; } = path;
        public long Size { get; } = size;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public DateTimeOffset LastAt { get; set; } = startedAt;
        public long Received { get; set; }
        public string State { get; set; } = "receiving";
        public int BadChunks { get; set; }
    }
}

/// <summary>The <c>files</c> part of <c>/v1/status</c>.</summary>
public sealed class FilesStatusSnapshot
{
    public required string Directory { get; init; }
    public long FilesCompleted { get; init; }
    public long BytesCompleted { get; init; }
    /// <summary>Records that were not file records or named unsafe paths: skipped.</summary>
    public long RejectedRecords { get; init; }
    /// <summary>Chunks whose bytes did not match their SHA-256: not written.</summary>
    public long BadChunks { get; init; }
    public string? LastError { get; init; }
    public IReadOnlyList<FilesOriginStatus> Origins { get; init; } = [];
}

/// <summary>One origin's files: in flight, and the last completed (up to 100).</summary>
public sealed class FilesOriginStatus
{
    public required string Origin { get; init; }
    public List<FileEntry> InFlight { get; } = [];
    public List<FileEntry> Completed { get; } = [];
}

/// <summary>One file version at a receiver.</summary>
public sealed class FileEntry
{
    public required string FileId { get; init; }
    public required string Path { get; init; }
    public long Size { get; init; }
    public long Received { get; init; }
    /// <summary>receiving, bad-chunk, hash-mismatch, completed.</summary>
    public required string State { get; init; }
    public int BadChunks { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public long BytesPerSecond { get; init; }
}
