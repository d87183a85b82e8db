using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeStream.Storage.Durability;
using EdgeStream.Storage.Segments;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Storage;

/// <summary>What opening the log found and fixed.</summary>
public sealed record RecoveryReport(int Topics, int Partitions, long Bytes, IReadOnlyList<SegmentRepair> Repairs);

/// <summary>What one retention pass deleted.</summary>
public readonly record struct RetentionResult(int SegmentsDeleted, long BytesFreed);

/// <summary>
/// The node's log: every topic and partition under one directory
/// (<c>{LogDirectory}/{topic}/{partition}/{baseOffset}.log</c>), one disk budget, one lock file so
/// that two agents never share a data directory.
/// </summary>
public sealed partial class LogManager : IAsyncDisposable
{
    private const string LockFile = ".lock";
    private const string TrashFolder = ".trash";

    private readonly StorageOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly DiskBudget _budget;
    private readonly ConcurrentDictionary<string, TopicLog> _topics = new(StringComparer.Ordinal);
    private readonly object _topicsLock = new();
    private FileStream? _lock;

    public LogManager(StorageOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("EdgeStream.Storage");
        _budget = new DiskBudget(options.MaxDiskBytes);
        if (options.MaxDiskBytes > 0) _budget.DropOne = DropOldestSegment;
    }

    public StorageOptions Options => _options;
    public long UsedBytes => _budget.UsedBytes;
    public long MaxDiskBytes => _budget.MaxBytes;
    public IReadOnlyList<TopicLog> Topics => [.. _topics.Values];

    /// <summary>
    /// Everything disk.full.policy=drop-oldest deleted since this process opened the log, over all
    /// topics (deleted topics included); per topic see <see cref="TopicLog.Dropped"/>.
    /// </summary>
    public DropCounters Dropped => _dropped.Read();

    private readonly DropCounter _dropped = new();

    // Kafka's legal topic names: letters, digits, '.', '_', '-', at most 249 characters.
    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$")]
    private static partial Regex TopicNamePattern();

    public static bool IsValidTopicName(string name) => TopicNamePattern().IsMatch(name) && name != "." && name != "..";

    /// <summary>Opens (creating if needed) the log directory, takes its lock and recovers every partition.</summary>
    public RecoveryReport Open()
    {
        var root = _options.LogDirectory;
        Directory.CreateDirectory(root);
        try
        {
            _lock = new FileStream(Path.Combine(root, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StorageException($"The log directory {root} is in use by another EdgeStream process ({ex.Message}).", ex);
        }
        var trash = Path.Combine(root, TrashFolder);
        if (Directory.Exists(trash)) Directory.Delete(trash, recursive: true);

        var repairs = new List<SegmentRepair>();
        var partitions = 0;
        foreach (var topicDir in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(topicDir);
            if (!IsValidTopicName(name))
            {
                StorageLog.Ignored(_logger, topicDir, "not a valid topic name");
                continue;
            }
            var topic = new TopicLog(name, topicDir, _options.DefaultTopicConfig);
            var count = CountPartitions(topicDir);
            var logs = new PartitionLog[count];
            for (var p = 0; p < count; p++)
            {
                var dir = Path.Combine(topicDir, p.ToString(CultureInfo.InvariantCulture));
                logs[p] = Directory.Exists(dir)
                    ? PartitionLog.Open(topic, p, dir, _options, _budget, _logger, repairs)
                    : PartitionLog.Create(topic, p, dir, _options, _budget, _logger);
                _budget.Account(logs[p].SizeBytes);
            }
            topic.SetPartitions(logs);
            _topics[name] = topic;
            partitions += count;
        }
        StorageLog.Opened(_logger, root, _topics.Count, partitions, _budget.UsedBytes);
        return new RecoveryReport(_topics.Count, partitions, _budget.UsedBytes, repairs);
    }

    // Partitions are folders named 0..N-1; a missing one in the middle is recreated empty.
    private static int CountPartitions(string topicDir)
    {
        var max = -1;
        foreach (var dir in Directory.EnumerateDirectories(topicDir))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > max)
                max = p;
        return max + 1;
    }

    public bool TryGetTopic(string name, out TopicLog? topic) => _topics.TryGetValue(name, out topic);

    public TopicLog GetTopic(string name) =>
        _topics.TryGetValue(name, out var topic) ? topic : throw new UnknownTopicException($"Topic '{name}' does not exist.");

    public PartitionLog GetPartition(string topic, int partition) => GetTopic(topic)[partition];

    public TopicLog CreateTopic(string name, int partitions, TopicConfig? config = null)
    {
        if (!IsValidTopicName(name))
            throw new ConfigurationException($"'{name}' is not a valid topic name: use 1-249 letters, digits, '.', '_' or '-'.");
        if (partitions < 1 || partitions > 10_000)
            throw new ConfigurationException($"A topic needs between 1 and 10000 partitions, not {partitions}.");
        config ??= _options.DefaultTopicConfig;
        config.Validate();
        lock (_topicsLock)
        {
            if (_topics.ContainsKey(name))
                throw new TopicAlreadyExistsException($"Topic '{name}' already exists.");
            var dir = Path.Combine(_options.LogDirectory, name);
            var topic = new TopicLog(name, dir, config);
            var logs = new PartitionLog[partitions];
            for (var p = 0; p < partitions; p++)
                logs[p] = PartitionLog.Create(topic, p, Path.Combine(dir, p.ToString(CultureInfo.InvariantCulture)), _options, _budget, _logger);
            topic.SetPartitions(logs);
            _topics[name] = topic;
            StorageLog.TopicCreated(_logger, name, partitions);
            return topic;
        }
    }

    /// <summary>Grows a topic to <paramref name="newCount"/> partitions (Kafka's CreatePartitions; never shrinks).</summary>
    public void AddPartitions(string name, int newCount)
    {
        lock (_topicsLock)
        {
            var topic = GetTopic(name);
            var current = topic.Partitions;
            if (newCount <= current.Count)
                throw new ConfigurationException($"Topic '{name}' has {current.Count} partitions; the new count must be larger, not {newCount}.");
            var logs = new PartitionLog[newCount];
            for (var p = 0; p < newCount; p++)
                logs[p] = p < current.Count ? current[p] : PartitionLog.Create(topic, p, Path.Combine(topic.Directory, p.ToString(CultureInfo.InvariantCulture)), _options, _budget, _logger);
            topic.SetPartitions(logs);
        }
    }

    /// <summary>Deletes a topic: its folder moves to a trash folder first, so a crash never leaves half a topic.</summary>
    public bool DeleteTopic(string name)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryRemove(name, out var topic)) return false;
            long bytes = 0;
            foreach (var p in topic.Partitions) bytes += p.SizeBytes;
            topic.Dispose();
            var trash = Path.Combine(_options.LogDirectory, TrashFolder);
            Directory.CreateDirectory(trash);
            var target = Path.Combine(trash, name + "." + Guid.NewGuid().ToString("N"));
            Directory.Move(topic.Directory, target);
            DirectorySync.Sync(_options.LogDirectory);
            Directory.Delete(target, recursive: true);
            _budget.Release(bytes);
            StorageLog.TopicDeleted(_logger, name);
            return true;
        }
    }

    /// <summary>fsyncs every partition's active segment.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        foreach (var topic in _topics.Values)
            foreach (var partition in topic.Partitions)
            {
                cancellationToken.ThrowIfCancellationRequested();
                partition.Flush();
            }
    }, cancellationToken);

    public RetentionResult EnforceRetention(DateTimeOffset now)
    {
        int segments = 0;
        long bytes = 0;
        foreach (var topic in _topics.Values)
            foreach (var partition in topic.Partitions)
            {
                var (s, b) = partition.EnforceRetention(now);
                segments += s;
                bytes += b;
            }
        return new RetentionResult(segments, bytes);
    }

    /// <summary>
    /// The budget is full: deletes the one segment disk.full.policy=drop-oldest gives up first — among
    /// the oldest closed segments of every drop-oldest partition, the one of the lowest
    /// drop priority, then the oldest (newest record's timestamp, then base offset). Block topics
    /// and active segments are never candidates. False when there is no candidate. Called by
    /// <see cref="DiskBudget.TryReserveOrDrop"/> under its drop lock, with no partition lock held.
    /// </summary>
    private bool DropOldestSegment()
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            TopicLog? victimTopic = null;
            PartitionLog? victim = null;
            int bestPriority = 0;
            long bestTimestamp = 0, bestBase = 0;
            foreach (var topic in _topics.Values)
            {
                var config = topic.Config;
                if (config.DiskFullPolicy != DiskFullPolicy.DropOldest) continue;
                foreach (var partition in topic.Partitions)
                {
                    if (!partition.TryPeekDroppable(out var timestamp, out var baseOffset)) continue;
                    if (victim is not null
                        && (config.DropPriority, timestamp, baseOffset).CompareTo((bestPriority, bestTimestamp, bestBase)) >= 0)
                        continue;
                    (victimTopic, victim, bestPriority, bestTimestamp, bestBase) = (topic, partition, config.DropPriority, timestamp, baseOffset);
                }
            }
            if (victim is null) return false;

            DroppedSegment? dropped;
            // Under the topics lock so that a concurrent DeleteTopic never counts (and releases) the
            // same bytes as this drop.
            lock (_topicsLock)
            {
                if (!_topics.TryGetValue(victimTopic!.Name, out var current) || !ReferenceEquals(current, victimTopic)) continue;
                try
                {
                    dropped = victim.DropOldestSegment();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Stop dropping rather than detach segment after segment without freeing space.
                    StorageLog.DropFailed(_logger, victim.Topic, victim.Partition, ex);
                    return false;
                }
            }
            // Null: retention or another drop got there first (or the segment is no longer closed
            // and acknowledged); look again.
            if (dropped is not { } d) continue;
            victimTopic.RecordDrop(d.Records, d.Bytes);
            _dropped.Add(d.Records, d.Bytes);
            StorageLog.SegmentDropped(_logger, victim.Topic, victim.Partition, d.Segment, d.FromOffset, d.ToOffset - 1, d.Records, d.Bytes,
                bestPriority, _budget.UsedBytes, _budget.MaxBytes);
            return true;
        }
        return false;
    }

    /// <summary>Flushes and fsyncs every partition, closes the files and releases the directory lock.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var topic in _topics.Values) topic.Dispose();
        _topics.Clear();
        _lock?.Dispose();
        _lock = null;
        return ValueTask.CompletedTask;
    }
}
