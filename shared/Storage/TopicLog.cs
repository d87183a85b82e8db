namespace EdgeStream.Storage;

/// <summary>A topic: a name, its configuration and its partitions (folders 0..N-1 under the topic folder).</summary>
public sealed class TopicLog : IDisposable
{
    private TopicConfig _config;
    private PartitionLog[] _partitions = [];

    internal TopicLog(string name, string directory, TopicConfig config)
    {
        Name = name;
        Directory = directory;
        _config = config;
    }

    public string Name { get; }
    public string Directory { get; }
    public int PartitionCount => Volatile.Read(ref _partitions).Length;
    public IReadOnlyList<PartitionLog> Partitions => Volatile.Read(ref _partitions);

    /// <summary>The live configuration; a change applies to the next append, roll and retention pass.</summary>
    public TopicConfig Config
    {
        get => Volatile.Read(ref _config);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            Volatile.Write(ref _config, value);
        }
    }

    public PartitionLog this[int partition] =>
        (uint)partition < (uint)PartitionCount
            ? Volatile.Read(ref _partitions)[partition]
            : throw new UnknownTopicException($"{Name} has no partition {partition} (it has {PartitionCount})");

    public bool TryGetPartition(int partition, out PartitionLog? log)
    {
        var partitions = Volatile.Read(ref _partitions);
        log = (uint)partition < (uint)partitions.Length ? partitions[partition] : null;
        return log is not null;
    }

    /// <summary>What disk.full.policy=drop-oldest deleted from this topic since the log was opened.</summary>
    public DropCounters Dropped => _dropped.Read();

    private readonly DropCounter _dropped = new();

    internal void RecordDrop(long records, long bytes) => _dropped.Add(records, bytes);

    internal void SetPartitions(PartitionLog[] partitions) => Volatile.Write(ref _partitions, partitions);

    public void Dispose()
    {
        foreach (var p in Volatile.Read(ref _partitions)) p.Dispose();
    }
}

/// <summary>Segments, records (offsets) and bytes deleted by disk.full.policy=drop-oldest.</summary>
public readonly record struct DropCounters(long Segments, long Records, long Bytes);

internal sealed class DropCounter
{
    private long _segments, _records, _bytes;

    public void Add(long records, long bytes)
    {
        Interlocked.Increment(ref _segments);
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _bytes, bytes);
    }

    public DropCounters Read() => new(Volatile.Read(ref _segments), Volatile.Read(ref _records), Volatile.Read(ref _bytes));
}
