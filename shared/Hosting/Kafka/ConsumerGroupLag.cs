using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Server;
using EdgeStream.Storage;

namespace EdgeStream.Hosting.Kafka;

/// <summary>One consumer group's distance behind the log on one topic: high watermarks minus committed offsets, summed over the partitions it committed.</summary>
public sealed record GroupTopicLag(string GroupId, GroupState State, string Topic, int Partitions, long Lag);

/// <summary>
/// Consumer-group lag as Kafka tools compute it (kafka-consumer-groups' LAG column): per committed
/// partition, high watermark minus committed offset. Used by <c>/metrics</c> and <c>/v1/topics</c>.
/// </summary>
public static class ConsumerGroupLag
{
    public static List<GroupTopicLag> Compute(KafkaBroker broker, LogManager manager)
    {
        var result = new List<GroupTopicLag>();
        foreach (var group in broker.Groups.ListGroups())
        {
            var perTopic = new SortedDictionary<string, (int Partitions, long Lag)>(StringComparer.Ordinal);
            foreach (var ((topic, partition), committed) in broker.Groups.FetchOffsets(group.GroupId))
            {
                // Offsets of deleted topics or partitions are kept, as Kafka keeps them; they have no lag to show.
                if (!manager.TryGetTopic(topic, out var log) || log is null || partition >= log.Partitions.Count) continue;
                var lag = Math.Max(0, log.Partitions[partition].HighWatermark - committed.Offset);
                var (n, sum) = perTopic.GetValueOrDefault(topic);
                perTopic[topic] = (n + 1, sum + lag);
            }
            foreach (var (topic, (n, lag)) in perTopic) result.Add(new GroupTopicLag(group.GroupId, group.State, topic, n, lag));
        }
        return result;
    }
}
