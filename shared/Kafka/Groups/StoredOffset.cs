namespace EdgeStream.Kafka.Groups;

/// <summary>A committed offset as the coordinator keeps it (memory and meta.db): what OffsetCommit stored and OffsetFetch returns.</summary>
public readonly record struct StoredOffset(long Offset, int LeaderEpoch, string? Metadata, long CommitTimestampMs);
