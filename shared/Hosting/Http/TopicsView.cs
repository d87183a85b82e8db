using EdgeStream.Hosting.Kafka;
using EdgeStream.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Http;

/// <summary>
/// The body of <c>GET /v1/topics</c>: this node's topics (partitions, records held, bytes, drops) and
/// its Kafka consumer groups with their lag per topic. The dashboard's topics and groups views.
/// </summary>
public sealed class TopicsView
{
    /// <summary>At most this many topics and groups are listed (by name), so a node with thousands of MQTT-mapped topics answers quickly.</summary>
    public const int MaxEntries = 1000;

    public IReadOnlyList<TopicEntry> Topics { get; init; } = [];
    public IReadOnlyList<GroupEntry> Groups { get; init; } = [];
    /// <summary>True when topics or groups were cut at <see cref="MaxEntries"/>.</summary>
    public bool Truncated { get; init; }

    public static TopicsView Build(IServiceProvider services)
    {
        if (services.GetRequiredService<StorageState>().Manager is not { } manager) return new TopicsView();
        var topics = new List<TopicEntry>();
        foreach (var topic in manager.Topics)
        {
            long records = 0, size = 0;
            foreach (var p in topic.Partitions)
            {
                records += Math.Max(0, p.HighWatermark - p.LogStartOffset);
                size += p.SizeBytes;
            }
            topics.Add(new TopicEntry { Name = topic.Name, Partitions = topic.Partitions.Count, Records = records, SizeBytes = size, DroppedRecords = topic.Dropped.Records });
        }
        topics.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));

        var groups = new List<GroupEntry>();
        if (services.GetService<EdgeStream.Kafka.Server.KafkaBroker>() is { } broker)
        {
            var lags = ConsumerGroupLag.Compute(broker, manager);
            foreach (var summary in broker.Groups.ListGroups())
            {
                var mine = lags.Where(l => l.GroupId == summary.GroupId)
                    .Select(static l => new GroupTopicEntry { Topic = l.Topic, Partitions = l.Partitions, Lag = l.Lag }).ToList();
                groups.Add(new GroupEntry
                {
                    GroupId = summary.GroupId,
                    State = summary.StateText,
                    Members = broker.Groups.DescribeGroup(summary.GroupId).Members.Count,
                    Lag = mine.Sum(static t => t.Lag),
                    Topics = mine,
                });
            }
        }
        return new TopicsView
        {
            Topics = topics.Count > MaxEntries ? topics[..MaxEntries] : topics,
            Groups = groups.Count > MaxEntries ? groups[..MaxEntries] : groups,
            Truncated = topics.Count > MaxEntries || groups.Count > MaxEntries,
        };
    }
}

public sealed class TopicEntry
{
    public required string Name { get; init; }
    public int Partitions { get; init; }
    /// <summary>Records held now: high watermark minus log start, summed over partitions.</summary>
    public long Records { get; init; }
    public long SizeBytes { get; init; }
    /// <summary>Removed by disk.full.policy=drop-oldest since start-up.</summary>
    public long DroppedRecords { get; init; }
}

public sealed class GroupEntry
{
    public required string GroupId { get; init; }
    /// <summary>Empty, PreparingRebalance, CompletingRebalance, Stable.</summary>
    public required string State { get; init; }
    public int Members { get; init; }
    /// <summary>Sum of <see cref="GroupTopicEntry.Lag"/>.</summary>
    public long Lag { get; init; }
    public IReadOnlyList<GroupTopicEntry> Topics { get; init; } = [];
}

public sealed class GroupTopicEntry
{
    public required string Topic { get; init; }
    /// <summary>Partitions of the topic the group has committed offsets for.</summary>
    public int Partitions { get; init; }
    public long Lag { get; init; }
}
