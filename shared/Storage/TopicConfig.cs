namespace EdgeStream.Storage;

/// <summary>What happens to a topic when the node's disk budget (--max-disk) is full.</summary>
public enum DiskFullPolicy
{
    /// <summary>Refuse the append with a clear error (Kafka KAFKA_STORAGE_ERROR, MQTT 0x97); nothing accepted is lost.</summary>
    Block,
    /// <summary>Delete this topic's oldest segments (lowest <see cref="TopicConfig.DropPriority"/> first) to make room; counted and logged.</summary>
    DropOldest,
}

/// <summary>Per-topic settings storage enforces, named after their Kafka counterparts in the comments.</summary>
public sealed record TopicConfig
{
    /// <summary>segment.bytes: roll to a new segment past this size. Default 128 MiB (edge-sized; Kafka uses 1 GiB).</summary>
    public long SegmentBytes { get; init; } = 128L * 1024 * 1024;
    /// <summary>segment.ms: roll a non-empty segment older than this. Default 7 days.</summary>
    public TimeSpan SegmentAge { get; init; } = TimeSpan.FromDays(7);
    /// <summary>retention.bytes per partition; -1 keeps everything (the disk budget still applies).</summary>
    public long RetentionBytes { get; init; } = -1;
    /// <summary>retention.ms: delete segments whose newest record is older; null keeps forever. Default 7 days.</summary>
    public TimeSpan? RetentionAge { get; init; } = TimeSpan.FromDays(7);
    /// <summary>max.message.bytes: the largest record batch accepted. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;
    /// <summary>index.interval.bytes: one sparse index entry per this many log bytes.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;
    /// <summary>message.timestamp.type: LogAppendTime makes the broker stamp batches on append.</summary>
    public bool UseLogAppendTime { get; init; }
    /// <summary>cleanup.policy: only "delete" is implemented.</summary>
    public string CleanupPolicy { get; init; } = "delete";
    /// <summary>disk.full.policy: what an append does when the node's disk budget is full.</summary>
    public DiskFullPolicy DiskFullPolicy { get; init; } = DiskFullPolicy.Block;
    /// <summary>
    /// With drop-oldest: when the budget is full, the partitions of the topic with the lowest drop priority
    /// give up their oldest segment first. Storage does not say where the number comes from (the metadata
    /// layer sets it from uplink.priority: what is least urgent upstream goes first).
    /// </summary>
    public int DropPriority { get; init; }
    /// <summary>
    /// Settings of mechanisms above storage (e.g. uplink.priority), by their config key, kept and handed
    /// back untouched: storage neither reads nor enforces them.
    /// </summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = EmptySettings;

    private static readonly IReadOnlyDictionary<string, string> EmptySettings = new Dictionary<string, string>(0);

    public static TopicConfig Default { get; } = new();

    /// <summary>Largest segment we allow: positions in the index are 32-bit.</summary>
    public const long MaxSegmentBytes = 1L << 30;

    public void Validate()
    {
        if (SegmentBytes < 1024 || SegmentBytes > MaxSegmentBytes)
            throw new ConfigurationException($"segment.bytes must be between 1 KiB and 1 GiB, not {SegmentBytes}.");
        if (SegmentAge <= TimeSpan.Zero)
            throw new ConfigurationException("segment.ms must be positive.");
        if (RetentionBytes < -1)
            throw new ConfigurationException("retention.bytes must be -1 (unlimited) or positive.");
        if (RetentionAge is { } age && age <= TimeSpan.Zero)
            throw new ConfigurationException("retention.ms must be positive, or -1 for unlimited.");
        if (MaxMessageBytes < 64 || MaxMessageBytes > 512 * 1024 * 1024)
            throw new ConfigurationException($"max.message.bytes must be between 64 B and 512 MiB, not {MaxMessageBytes}.");
        if (IndexIntervalBytes < 1)
            throw new ConfigurationException("index.interval.bytes must be positive.");
        if (CleanupPolicy != "delete")
            throw new ConfigurationException($"cleanup.policy '{CleanupPolicy}' is not supported (only 'delete').");
    }
}
