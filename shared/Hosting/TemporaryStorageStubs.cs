// TEMPORARY: stand-ins for the storage library's public API until it lands on main.
// Delete this file when merging main (main's shared/Storage wins).
using Microsoft.Extensions.Logging;

namespace EdgeStream.Storage;

public enum FsyncPolicy { Always, Group, Os }

public sealed record TopicConfig
{
    public long SegmentBytes { get; init; } = 1L << 30;
    public TimeSpan SegmentAge { get; init; } = TimeSpan.FromDays(7);
    public long RetentionBytes { get; init; } = -1;
    public TimeSpan? RetentionAge { get; init; } = TimeSpan.FromDays(7);
    public int MaxMessageBytes { get; init; } = 1 << 20;
    public int IndexIntervalBytes { get; init; } = 4096;
    public static TopicConfig Default { get; } = new();
}

public sealed class StorageOptions
{
    public required string LogDirectory { get; init; }
    public FsyncPolicy FsyncPolicy { get; init; } = FsyncPolicy.Group;
    public TimeSpan GroupCommitInterval { get; init; } = TimeSpan.FromMilliseconds(2);
    public long MaxDiskBytes { get; init; }
    public TopicConfig DefaultTopicConfig { get; init; } = TopicConfig.Default;
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(LogDirectory)) throw new ConfigurationException("LogDirectory must be set.");
    }
}

public sealed record RecoveryReport(int Partitions, long TruncatedBytes);
public sealed record RetentionResult(int SegmentsDeleted, long BytesDeleted);

public sealed class TopicLog
{
    public required string Name { get; init; }
}

public sealed class LogManager : IAsyncDisposable
{
    private readonly StorageOptions _options;
    private readonly List<TopicLog> _topics = [];
    public LogManager(StorageOptions options, ILoggerFactory? loggerFactory = null) { _options = options; _ = loggerFactory; }
    public RecoveryReport Open() { Directory.CreateDirectory(_options.LogDirectory); return new RecoveryReport(0, 0); }
    public TopicLog CreateTopic(string name, int partitions, TopicConfig? config = null) { var t = new TopicLog { Name = name }; _topics.Add(t); return t; }
    public bool TryGetTopic(string name, out TopicLog? topic) { topic = _topics.Find(t => t.Name == name); return topic is not null; }
    public IReadOnlyList<TopicLog> Topics => _topics;
    public long UsedBytes => 0;
    public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    public RetentionResult EnforceRetention(DateTimeOffset now) => new(0, 0);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public sealed record PartitionCheck(string Topic, int Partition, bool Healthy);

public sealed class FsckReport
{
    public IReadOnlyList<PartitionCheck> Partitions { get; init; } = [];
    public bool Healthy => Partitions.All(p => p.Healthy);
    public void WriteTo(TextWriter w) => w.WriteLine($"{Partitions.Count} partitions checked, {(Healthy ? "healthy" : "damaged")}");
}

public static class LogChecker
{
    public static FsckReport Check(string logDirectory, bool repair, ILogger? logger = null) => new();
}
