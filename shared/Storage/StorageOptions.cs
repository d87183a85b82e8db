namespace EdgeStream.Storage;

/// <summary>When an append counts as durable, and so when it is acknowledged.</summary>
public enum FsyncPolicy
{
    /// <summary>fsync before acknowledging; concurrent appends share one fsync (group commit).</summary>
    Always,
    /// <summary>Like <see cref="Always"/>, but at most one fsync per <see cref="StorageOptions.GroupCommitInterval"/>: under load, bigger groups and fewer fsyncs.</summary>
    Group,
    /// <summary>Acknowledged once in the page cache; the OS (and a periodic background flush) writes it out.</summary>
    Os,
}

/// <summary>Options for <see cref="LogManager"/>.</summary>
public sealed class StorageOptions
{
    /// <summary>Root of the log: one folder per topic, one per partition below it.</summary>
    public required string LogDirectory { get; init; }
    public FsyncPolicy FsyncPolicy { get; init; } = FsyncPolicy.Group;
    /// <summary>With <see cref="FsyncPolicy.Group"/>: the minimum time between the starts of two fsyncs of a partition. Default 2 ms.</summary>
    public TimeSpan GroupCommitInterval { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>Per-node disk budget for the log in bytes; 0 means only the disk's own size limits it.</summary>
    public long MaxDiskBytes { get; init; }
    public TopicConfig DefaultTopicConfig { get; init; } = TopicConfig.Default;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(LogDirectory))
            throw new ConfigurationException("The log directory must be set.");
        if (GroupCommitInterval < TimeSpan.Zero || GroupCommitInterval > TimeSpan.FromSeconds(10))
            throw new ConfigurationException($"fsync interval must be between 0 and 10 s, not {GroupCommitInterval.TotalMilliseconds} ms.");
        if (MaxDiskBytes < 0)
            throw new ConfigurationException("max-disk must not be negative.");
        DefaultTopicConfig.Validate();
    }
}
