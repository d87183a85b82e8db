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

    internal void SetPartitions(PartitionLog[] partitions) => Volatile.Write(ref _partitions, partitions);

    public void Dispose()
    {
        foreach (var p in Volatile.Read(ref _partitions)) p.Dispose();
    }
}
