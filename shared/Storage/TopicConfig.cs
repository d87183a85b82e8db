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

    // The messages take Kafka's form ("Invalid value V for configuration K: reason") because Kafka
    // admin tools show them as the broker's answer; the limits are EdgeStream's, within Kafka's ranges.
    public void Validate()
    {
        if (SegmentBytes < 1024)
            throw Invalid("segment.bytes", SegmentBytes, "Value must be at least 1024");
        if (SegmentBytes > MaxSegmentBytes)
            throw Invalid("segment.bytes", SegmentBytes, $"Value must be no more than {MaxSegmentBytes}");
        if (SegmentAge <= TimeSpan.Zero)
            throw Invalid("segment.ms", (long)SegmentAge.TotalMilliseconds, "Value must be at least 1");
        if (RetentionBytes < -1)
            throw Invalid("retention.bytes", RetentionBytes, "Value must be at least -1");
        if (RetentionAge is { } age && age <= TimeSpan.Zero)
            throw Invalid("retention.ms", (long)age.TotalMilliseconds, "Value must be at least 1, or -1 to keep records forever");
        if (MaxMessageBytes < 64)
            throw Invalid("max.message.bytes", MaxMessageBytes, "Value must be at least 64");
        if (MaxMessageBytes > 512 * 1024 * 1024)
            throw Invalid("max.message.bytes", MaxMessageBytes, $"Value must be no more than {512 * 1024 * 1024}");
        if (IndexIntervalBytes < 1)
            throw Invalid("index.interval.bytes", IndexIntervalBytes, "Value must be at least 1");
        if (CleanupPolicy != "delete")
            throw new ConfigurationException($"Invalid value {CleanupPolicy} for configuration cleanup.policy: only 'delete' is supported (EdgeStream does not compact)");
    }

    private static ConfigurationException Invalid(string key, long value, string reason) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Invalid value {value} for configuration {key}: {reason}"));
}
