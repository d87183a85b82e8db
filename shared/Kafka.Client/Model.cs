using EdgeStream.Records;

namespace EdgeStream.Kafka.Client;

/// <summary>A broker as Metadata advertises it: clients connect to this host and port, not the bootstrap.</summary>
public sealed record BrokerInfo(int NodeId, string Host, int Port)
{
    public BrokerAddress Address => new(Host, Port);
}

public sealed record PartitionMetadata(int Index, int LeaderId, short ErrorCode);

/// <summary>A topic as a Metadata response describes it to the client (the broker side keeps its own record of a topic).</summary>
public sealed record TopicDescription(string Name, Guid TopicId, short ErrorCode, bool IsInternal, IReadOnlyList<PartitionMetadata> Partitions)
{
    public int PartitionCount => Partitions.Count;
}

public sealed record ClusterMetadata(string? ClusterId, int ControllerId, IReadOnlyList<BrokerInfo> Brokers, IReadOnlyList<TopicDescription> Topics);

/// <summary>One topic config as DescribeConfigs reports it.</summary>
/// <param name="IsTopicOverride">Set on the topic itself, rather than a broker or built-in default.</param>
public sealed record TopicConfigEntry(string Name, string? Value, bool IsTopicOverride, bool IsReadOnly, bool IsSensitive);

/// <summary>Where a produced batch landed.</summary>
public sealed record ProduceResult(int Partition, long BaseOffset);

/// <summary>What one partition returned to a fetch.</summary>
/// <param name="NextOffset">Where the next fetch of this partition starts: after the last whole batch returned.</param>
public sealed record FetchedPartition(int Partition, short ErrorCode, long HighWatermark, long LogStartOffset, IReadOnlyList<Record> Records, long NextOffset);

/// <summary>The timestamps ListOffsets understands besides real ones.</summary>
public static class OffsetSpec
{
    public const long Latest = -1;
    public const long Earliest = -2;
}

/// <summary>A group as ListGroups reports it.</summary>
public sealed record GroupListing(string GroupId, string ProtocolType, string? State);

/// <summary>One member of a described group, with its decoded assignment (empty when not a consumer-protocol group).</summary>
public sealed record GroupMemberInfo(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost,
    IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)> Assignment);

/// <summary>A group as DescribeGroups reports it. State is Empty, Stable, PreparingRebalance, CompletingRebalance or Dead.</summary>
public sealed record GroupDescription(string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberInfo> Members);

/// <summary>A committed offset of one partition (-1 when the group has none there).</summary>
public sealed record CommittedOffset(string Topic, int Partition, long Offset, string? Metadata);
